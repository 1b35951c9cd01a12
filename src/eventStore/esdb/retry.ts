// Waiting between attempts, for the adapter's two retry loops: appends that lost
// a race (any/stream_exists) and subscriptions whose server went away. One
// doubling, capped backoff; each loop names its jitter.

/** A backoff policy: the first delay, its cap, and how the wait is drawn from the delay. */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** `full`: a wait in [0, delay); `equal`: in [delay/2, delay). */
  jitter: 'full' | 'equal';
}

/** Doubling delays, capped: `next()` gives the wait to use now, `reset()` starts over. */
export interface Backoff {
  next(): number;
  reset(): void;
}

export function backoff(policy: BackoffPolicy): Backoff {
  let delay = policy.initialDelayMs;
  return {
    next(): number {
      const wait =
        policy.jitter === 'full' ? delay * Math.random() : delay / 2 + (Math.random() * delay) / 2;
      delay = Math.min(delay * 2, policy.maxDelayMs);
      return wait;
    },
    reset(): void {
      delay = policy.initialDelayMs;
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
