// Idempotency-key locks within this process: appends that share a key run one
// at a time, so the second sees the first's index record instead of racing it.

/** A lock table: the function runs `work` once no other holder has any of `keys`. */
export function createKeyLocks(): <T>(
  keys: readonly string[],
  work: () => Promise<T>,
) => Promise<T> {
  /** Appends holding an idempotency key in this process: same-key appends run one at a time. */
  const keyLocks = new Map<string, Promise<unknown>>();

  /** Runs `work` once no other append in this process holds any of `keys`. */
  async function withKeyLocks<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    for (;;) {
      const held = keys.flatMap((k) => keyLocks.get(k) ?? []);
      if (held.length === 0) break;
      await Promise.allSettled(held);
    }
    const running = work();
    for (const k of keys) keyLocks.set(k, running);
    try {
      return await running;
    } finally {
      for (const k of keys) if (keyLocks.get(k) === running) keyLocks.delete(k);
    }
  }
  return withKeyLocks;
}
