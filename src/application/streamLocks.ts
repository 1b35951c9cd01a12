// Serialises commands on the same stream within this process. Optimistic
// concurrency stays the guarantee (other processes and nodes still conflict and are
// retried); this only keeps a burst of receipts for one unit from burning through
// its retries against itself.

/** Runs `task` after every earlier task for the same key has settled. */
export interface StreamLocks {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
}

export function createStreamLocks(): StreamLocks {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(task, task);
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
  };
}
