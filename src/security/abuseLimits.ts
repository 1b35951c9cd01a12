// Abuse limits (issue 15, docs/security.md "Limits"): how much one caller may ask
// and how long a connection may take. Shared by the configuration (which reads
// them from the environment) and the HTTP edge (which enforces them). The
// defaults are generous: they stop floods and stalls, not normal use.

export interface AbuseLimits {
  /** Requests per principal (or client address when anonymous) per window: 429 beyond. */
  readonly rateLimit: { readonly max: number; readonly windowMs: number };
  /**
   * Ingest requests in progress at once: beyond `max` 503 + Retry-After (the
   * bounded queue: memory stays within `max` × the body limit); one principal
   * may hold at most `perPrincipal` of them (429 + Retry-After beyond), so that
   * a flood from one producer does not starve the others.
   */
  readonly ingestQueue: { readonly max: number; readonly perPrincipal: number };
  /** Seconds a rejected client is told to wait (`Retry-After`) when the queue is full. */
  readonly retryAfterSeconds: number;
  readonly server: {
    /** All headers must arrive within this (408 problem+json, connection closed). */
    readonly headersTimeoutMs: number;
    /** The whole request, body included, must arrive within this (408). */
    readonly requestTimeoutMs: number;
    /** An idle keep-alive connection is closed after this. */
    readonly keepAliveTimeoutMs: number;
    /** A socket with no traffic at all is closed after this. */
    readonly idleTimeoutMs: number;
    /** How often the timeouts above are checked (Node checks every 30 s by default). */
    readonly timeoutCheckIntervalMs: number;
    /** Connections open at once; more are closed on arrival. */
    readonly maxConnections: number;
  };
}

export const DEFAULT_ABUSE_LIMITS: AbuseLimits = Object.freeze({
  rateLimit: Object.freeze({ max: 1_000_000, windowMs: 60_000 }),
  ingestQueue: Object.freeze({ max: 256, perPrincipal: 128 }),
  retryAfterSeconds: 1,
  server: Object.freeze({
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 25_000,
    keepAliveTimeoutMs: 5_000,
    idleTimeoutMs: 60_000,
    timeoutCheckIntervalMs: 1_000,
    maxConnections: 1_024,
  }),
});
