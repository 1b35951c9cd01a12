#!/usr/bin/env node
// `npm run lint`: eslint (type-aware), prettier --check and the typecheck, run
// side by side. Each is one single-threaded process (on a clean clone about
// 45 s, 17 s and 18 s of CPU), so one after another they took their sum; side
// by side on two cores they take about as long as eslint alone. Each one's
// output is printed whole when it ends, so that the three never interleave; the
// run fails when any of them fails.
//
// LINT_SKIP_REASON=<why> skips the three, printing why. `.ci/run` sets it for
// its second `npm test` (Node 24): the sources, the lockfile and the tools are
// those the first run (Node 20) linted, and none of the three reads anything of
// the Node version that runs it, so a second lint could only repeat the first.
import { spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const skip = process.env.LINT_SKIP_REASON;
if (skip !== undefined && skip !== '') {
  console.log(`lint skipped: ${skip}`);
  process.exit(0);
}

const checks = [
  ['eslint', ['eslint', '.']],
  ['prettier', ['prettier', '--check', '--cache', '--cache-location', '.cache/prettier', '.']],
  ['typecheck', ['npm', 'run', '--silent', 'typecheck']],
];

/** Runs one check; resolves to its exit code and everything it printed, in order. */
function check([command, ...args]) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd: root,
      // `npm run` puts node_modules/.bin on PATH; a direct `node scripts/lint.mjs` does not.
      env: {
        ...process.env,
        PATH: [join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    const seconds = () => (Number(process.hrtime.bigint() - start) / 1e9).toFixed(1);
    child.once('error', (error) =>
      resolve({ code: 1, output: `${output}${error.message}\n`, seconds: seconds() }),
    );
    child.once('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 1 : 0), output, seconds: seconds() }),
    );
  });
}

const results = await Promise.all(checks.map(([, command]) => check(command)));
let failed = 0;
for (const [i, [name]] of checks.entries()) {
  const { code, output, seconds } = results[i];
  if (output !== '') process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
  if (code !== 0) {
    failed++;
    console.error(`lint: ${name} failed (exit ${code}, ${seconds} s)`);
  }
}
process.exit(failed === 0 ? 0 : 1);
