// How tests start the `provenant` CLI as a child process. `npm test`
// (scripts/run-tests.mjs) transpiles src/ and projections/ once with esbuild —
// the transform tsx applies on the fly — and names the result's entry point in
// PROVENANT_TEST_CLI, so that each spawn skips loading tsx and its hooks (about
// 1 s of CPU per process, with well over a hundred spawns in the suite). A test
// file run on its own (`node --import tsx --test file`) starts the sources
// through tsx, so it never runs a stale build.
import { fileURLToPath } from 'node:url';

const sources = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Node's arguments that run `provenant <args>`. */
export function cliArgs(...args: string[]): string[] {
  const built = process.env['PROVENANT_TEST_CLI'];
  return built === undefined || built === ''
    ? ['--import', 'tsx', sources, ...args]
    : [built, ...args];
}
