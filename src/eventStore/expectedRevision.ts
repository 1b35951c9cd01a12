// Optimistic concurrency as typed sentinels plus one error and its guard
// (DESIGN.md §2; emmett's expectedVersion.ts is the model).
import { ProvenantError } from '../errors.js';

/** Any revision: append whatever the stream's state. */
export const ANY = 'any' as const;
/** The stream must not exist yet. */
export const NO_STREAM = 'no_stream' as const;
/** The stream must exist, at any revision. */
export const STREAM_EXISTS = 'stream_exists' as const;

/**
 * What the caller expects of a stream before appending: a sentinel, or the exact
 * revision (0-based) of the stream's last event.
 */
export type ExpectedRevision = typeof ANY | typeof NO_STREAM | typeof STREAM_EXISTS | number;

/** The stream's actual state when a conflict was detected. */
export type ActualRevision = number | typeof NO_STREAM;

/** Raised when an append's expected revision does not match the stream. */
export class RevisionConflictError extends ProvenantError {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: ActualRevision,
  ) {
    super(
      'STORE_REVISION_CONFLICT',
      `Stream '${stream}' expected at revision ${String(expected)} but is at ${String(actual)}`,
      { details: { stream, expected, actual } },
    );
    this.name = 'RevisionConflictError';
  }
}

export const isRevisionConflictError = (error: unknown): error is RevisionConflictError =>
  error instanceof RevisionConflictError;

/** Throws `STORE_INVALID_EXPECTED_REVISION` unless `value` is a valid expected revision. */
export function assertExpectedRevision(value: unknown): asserts value is ExpectedRevision {
  if (value === ANY || value === NO_STREAM || value === STREAM_EXISTS) return;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return;
  throw new ProvenantError(
    'STORE_INVALID_EXPECTED_REVISION',
    `Expected revision must be 'any', 'no_stream', 'stream_exists' or a non-negative integer, got ${describe(value)}`,
  );
}

/** Whether a stream whose last revision is `actual` satisfies `expected`. */
export function matchesExpectedRevision(
  expected: ExpectedRevision,
  actual: ActualRevision,
): boolean {
  switch (expected) {
    case ANY:
      return true;
    case NO_STREAM:
      return actual === NO_STREAM;
    case STREAM_EXISTS:
      return actual !== NO_STREAM;
    default:
      return actual === expected;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}
