#!/usr/bin/env node
// Runs the test tiers named on the command line (unit, int, e2e) in one
// `node --test` run through tsx, so one summary covers the whole suite.
// The tier is in the file name: *.unit.test.ts, *.int.test.ts, *.e2e.test.ts.
//
// Tests that start the CLI as a child process run a build of it: src/ and
// projections/ are transpiled once here with esbuild (the transform tsx applies
// on the fly) into .cache/test-build/, named in PROVENANT_TEST_CLI (read by
// test/support/cli.ts). A spawn then costs a plain `node` start instead of
// loading tsx and its hooks again.
import { spawn } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tiers = process.argv.slice(2);
if (tiers.length === 0 || tiers.some((t) => !['unit', 'int', 'e2e'].includes(t))) {
  console.error('usage: run-tests.mjs <unit|int|e2e>...');
  process.exit(2);
}
const files = [];
for (const dir of ['src', 'projections', 'test', 'bench']) {
  let entries = [];
  try {
    entries = readdirSync(join(root, dir), { recursive: true });
  } catch {
    continue;
  }
  for (const entry of entries) {
    const name = String(entry);
    if (name.includes('node_modules')) continue;
    if (tiers.some((t) => name.endsWith(`.${t}.test.ts`))) files.push(join(dir, name));
  }
}
files.sort();
if (files.length === 0) {
  console.error(`no test files for tiers: ${tiers.join(', ')}`);
  process.exit(1);
}

/** Transpiles the CLI's sources (not the tests) into `.cache/test-build/`; returns its entry point. */
async function buildCli() {
  const { build } = await import('esbuild');
  const out = join(root, '.cache', 'test-build');
  rmSync(out, { recursive: true, force: true });
  const entryPoints = [];
  for (const dir of ['src', 'projections'])
    for (const entry of readdirSync(join(root, dir), { recursive: true })) {
      const name = String(entry);
      if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts'))
        entryPoints.push(join(root, dir, name));
    }
  await build({
    entryPoints,
    outdir: out,
    outbase: root,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node}`, // the Node that runs the tests
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  // Imported with `with { type: 'json' }` from src/ingest/, relative to the root.
  cpSync(join(root, 'schemas'), join(out, 'schemas'), { recursive: true });
  return join(out, 'src', 'cli', 'main.js');
}

const cli = await buildCli();
console.log(`running ${files.length} test files (${tiers.join(', ')})`);
const args = [
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`,
  '--test-timeout=300000',
  // No --test-force-exit: with process isolation it can drop the tail of a
  // file's results before the parent reads them, so a run reports fewer tests
  // than ran, at exit 0 (nodejs/node#64833; seen here on Node 24, 43 tests of
  // src/ingest/cloudEvents.unit.test.ts missing). A file that leaves a handle
  // open would instead keep the run waiting: the bound below turns that into a
  // failure.
  ...(process.env.TEST_REPORTER ? [`--test-reporter=${process.env.TEST_REPORTER}`] : []),
  ...files.map((f) => relative(process.cwd(), join(root, f))),
];
const child = spawn(process.execPath, args, {
  stdio: 'inherit',
  cwd: root,
  env: {
    ...process.env,
    PROVENANT_TEST_CLI: cli,
    // Node's on-disk code cache (Node >= 22.1; Node 20 ignores the variable): the
    // test files and the CLI processes they start load the same modules, and each
    // process after the first that loads a module skips V8's compile of it (on
    // Node 24 about a third of the CPU of a CLI start). The cache checks each
    // module's source hash, so a changed file is compiled anew.
    NODE_COMPILE_CACHE:
      process.env.NODE_COMPILE_CACHE ?? join(root, '.cache', 'node-compile-cache'),
  },
});
// The whole run's bound (TEST_RUN_MINUTES, default 20; the suite takes 3–6 min).
const minutes = Number(process.env.TEST_RUN_MINUTES ?? '20');
const bound = setTimeout(() => {
  console.error(
    `run-tests: the test run passed ${minutes} minutes and was stopped: a test file probably left a handle open (a server, a timer, a database) after its tests ended`,
  );
  child.kill('SIGKILL');
}, minutes * 60_000);
bound.unref();
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
