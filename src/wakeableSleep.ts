// Waiting that `wake()` ends early: for loops that wait between tries (or
// until they are stopped) and must end at once when `stop()` is called.

export interface WakeableSleep {
  /** Resolves after `ms`, or at `wake()`, whichever comes first. */
  sleep: (ms: number) => Promise<void>;
  /** Resolves at `wake()` only. */
  untilWoken: () => Promise<void>;
  /** Ends the current wait now (nothing when none runs). */
  wake: () => void;
}

export function wakeableSleep(): WakeableSleep {
  let wake: (() => void) | undefined;
  const wait = (ms?: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => wake?.(), ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });
  return {
    sleep: (ms) => wait(ms),
    untilWoken: () => wait(),
    wake: () => wake?.(),
  };
}
