// The numbered steps of `npm run demo` (scripts/demo.ts): each prints its title,
// then ✓ with what it showed or ✗ with the error, and failures are counted for
// the exit code.
export const OK = '\u2713';
export const FAIL = '\u2717';

export interface Steps {
  /** Runs one numbered step; prints ✓ with its detail, or ✗ with the error. */
  step: <T>(
    title: string,
    run: () => Promise<T>,
    detail?: (value: T) => string,
  ) => Promise<T | undefined>;
  /** Counts and prints a failure outside any step (the demo could not go on). */
  fail: (error: unknown) => void;
  /** Failures so far. */
  failed: () => number;
}

export function stepRunner(): Steps {
  let stepNo = 0;
  let failed = 0;
  const step = async <T>(
    title: string,
    run: () => Promise<T>,
    detail?: (value: T) => string,
  ): Promise<T | undefined> => {
    stepNo++;
    console.log(`\n${stepNo}. ${title}`);
    try {
      const value = await run();
      console.log(`   ${OK} ${detail?.(value) ?? 'done'}`);
      return value;
    } catch (error) {
      failed++;
      console.log(`   ${FAIL} ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };
  const fail = (error: unknown): void => {
    failed++;
    console.log(`${FAIL} ${String(error)}`);
  };
  return { step, fail, failed: () => failed };
}

export const check = (condition: boolean, message: string): void => {
  if (!condition) throw new Error(message);
};
