// Ingest limits (DESIGN.md §4, issue 4 "Limits and sanitisation"): every size and
// depth bound that input is checked against before it costs CPU. Configurable; the
// defaults are the documented ones.

/** Bounds that ingest enforces on every request. */
export interface IngestLimits {
  /** Largest request body, in bytes (413 `INGEST_BODY_TOO_LARGE`). */
  readonly maxBodyBytes: number;
  /** Largest single event, in bytes of its JSON or binary-mode body (413 `INGEST_EVENT_TOO_LARGE`). */
  readonly maxEventBytes: number;
  /** Deepest JSON nesting of objects and arrays (400 `INGEST_TOO_DEEP`). */
  readonly maxDepth: number;
  /** Longest run of base64-looking characters in one string (400 `INGEST_INLINE_BINARY`). */
  readonly maxInlineBinaryChars: number;
  /** Most events in one batch (413 `INGEST_BATCH_TOO_LARGE`). */
  readonly maxBatchItems: number;
  /** Largest JUnit/xUnit XML report, in bytes (413 `INGEST_JUNIT_TOO_LARGE`). */
  readonly maxJUnitBytes: number;
  /** Most failing-test names a JUnit receipt lists; the rest are counted only. */
  readonly maxFailingTests: number;
  /**
   * How far ahead of the store's clock a time the event claims may lie, in ms:
   * its CloudEvent `time`, a receipt's `startedAt`/`finishedAt` (400
   * `INGEST_TIME_IN_FUTURE`; checked by the application, which has the clock).
   */
  readonly maxFutureSkewMs: number;
}

/** The documented defaults: 1 MiB body, 256 KiB event, depth 32, 4 KiB base64 runs, 5 minutes of clock skew. */
export const DEFAULT_INGEST_LIMITS: IngestLimits = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  maxEventBytes: 256 * 1024,
  maxDepth: 32,
  maxInlineBinaryChars: 4096,
  maxBatchItems: 1000,
  maxJUnitBytes: 5 * 1024 * 1024,
  maxFailingTests: 100,
  maxFutureSkewMs: 5 * 60_000,
});

/** Fills unset limits with the defaults and rejects nonsensical values early. */
export function resolveIngestLimits(overrides: Partial<IngestLimits> = {}): IngestLimits {
  const limits: IngestLimits = { ...DEFAULT_INGEST_LIMITS, ...withoutUndefined(overrides) };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || (value as number) < 1)
      throw new RangeError(`Ingest limit ${name} must be a positive integer, got ${String(value)}`);
  }
  return Object.freeze(limits);
}

const withoutUndefined = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
