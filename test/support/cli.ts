// How tests start the `provenant` CLI as a child process. `npm test`
// (scripts/run-tests.mjs) transpiles src/ and projections/ once with esbuild —
// the transform tsx applies on the fly — and names the result's entry point in
// PROVENANT_TEST_CLI, so that each spawn skips loading tsx and its hooks (about
// 1 s of CPU per process, with well over a hundred spawns in the suite). A test
// file run on its own (`node --import tsx --test file`) starts the sources
// through tsx, so it never runs a stale build.
import { execFile, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const sources = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Node's arguments that run `provenant <args>`. */
export function cliArgs(...args: string[]): string[] {
  const built = process.env['PROVENANT_TEST_CLI'];
  return built === undefined || built === ''
    ? ['--import', 'tsx', sources, ...args]
    : [built, ...args];
}

/** What a CLI run printed, and its exit code (-1 when it was killed). */
export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `provenant <args>` without blocking the test's event loop, for tests
 * whose CLI talks to a server in the test's own process, and for cases that run
 * side by side (a blocking spawn would stall the others' timers). `env` is
 * added to the test's environment.
 */
export async function runCli(
  args: string[],
  timeout = 60_000,
  env: Record<string, string> = {},
): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, cliArgs(...args), {
      encoding: 'utf8',
      timeout,
      env: { ...process.env, ...env },
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout: string; stderr: string };
    return { status: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Runs `provenant <args>` and waits for it, blocking the event loop (for tests
 * whose CLI needs nothing from the test's process). `env` is added to the
 * test's environment.
 */
export function runCliSync(
  args: string[],
  timeout = 60_000,
  env: Record<string, string> = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, cliArgs(...args), {
    encoding: 'utf8',
    timeout,
    env: { ...process.env, ...env },
  });
}
