// The real thing: `provenant serve` as a child process on a loopback port, then
// SIGTERM; `provenant --help`; `provenant log verify` on an intact and a
// tampered log; usage errors; a closed output pipe. (`provenant verify`, the attestation verifier, has
// its own tests in test/attestations/.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../src/eventStore/sqlite/database.js';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import { cliArgs, runCli, type CliRun } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `provenant <args>`, without blocking the event loop (the cases run side by side). */
const run = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runCli(args, 60_000, env);

// Each case has a data directory of its own (or none), so they run side by
// side: most of each is waiting on a child process.
describe('provenant command line', { concurrency: true }, () => {
  it('lists its commands with --help, and each command has --help', async () => {
    const help = await run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Commands:/);
    assert.match(help.stdout, /serve/);
    assert.match(help.stdout, /verify/);
    for (const command of [['serve'], ['log', 'verify']]) {
      const sub = await run([...command, '--help']);
      assert.equal(sub.status, 0, command.join(' '));
      assert.match(sub.stdout, new RegExp(`provenant ${command.join(' ')}`));
      assert.match(sub.stdout, /PROVENANT_DATA_DIR/);
    }
    const unknown = await run(['frobnicate']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const badOption = await run(['verify', '--nope']);
    assert.equal(badOption.status, 2);
    assert.match(badOption.stderr, /Unknown option '--nope'/);
  });

  it('has --help on every command and subcommand, and --version', async () => {
    const expected: [string[], RegExp[]][] = [
      [['serve'], [/provenant serve/, /--host/, /--port/, /PROVENANT_DATA_DIR/, /Exit codes:/]],
      [['log'], [/provenant log/, /verify/]],
      [
        ['log', 'verify'],
        [/provenant log verify/, /--stream/, /--json/, /PROVENANT_DATA_DIR/, /Exit codes:/],
      ],
      [['verify'], [/provenant verify/, /--bundle/, /--unit/, /--store/, /--json/, /Exit codes:/]],
    ];
    for (const [command, patterns] of expected) {
      const res = await run([...command, '--help']);
      assert.equal(res.status, 0, command.join(' '));
      for (const pattern of patterns) assert.match(res.stdout, pattern, command.join(' '));
    }
    const top = await run(['--help']);
    assert.match(top.stdout, /log/);
    assert.match(top.stdout, /Exit codes:/);
    const helpCommand = await run(['help', 'log']);
    assert.equal(helpCommand.status, 0);
    assert.match(helpCommand.stdout, /provenant log/);
    const version = await run(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  it('reports usage errors in one line with a pointer to --help, exit 2, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command 'frobnicate'.*provenant --help/],
      [['log', 'frobnicate'], /unknown command 'frobnicate'.*provenant log --help/],
      [['log', 'verify', '--nope'], /Unknown option '--nope'.*provenant log verify --help/],
      [['serve', '--nope'], /Unknown option '--nope'.*provenant serve --help/],
      [['log', 'verify', '--stream'], /'--stream <name>' argument missing.*--help/],
      [['serve', 'extra'], /too many arguments.*provenant serve --help/],
    ];
    for (const [args, pattern] of cases) {
      const res = await run(args);
      const what = args.join(' ');
      assert.equal(res.status, 2, what);
      assert.match(res.stderr, pattern, what);
      assert.equal(res.stderr.trim().split('\n').length, 1, `${what}: ${res.stderr}`);
      assert.doesNotMatch(res.stderr, /\bat .*\.(ts|js):\d+/, what);
      assert.equal(res.stdout, '', what);
    }
    // A group without its subcommand is a usage error too: the group's help, on stderr.
    const bare = await run(['log']);
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /provenant log/);
  });

  it('ends quietly with 141 when the reader of its output goes away (`| head`)', async () => {
    // The pipe's read end is closed before the command writes a byte: its
    // first write fails with EPIPE, as under `provenant log verify --help | head -0`.
    const child = spawn(process.execPath, cliArgs('log', 'verify', '--help'), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const status = await new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    assert.equal(status, 141, stderr);
    assert.equal(stderr, '');
  });

  it('says in one line, exit 2, when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const res = await run(['serve', '--port', String(port)], {
        PROVENANT_DATA_DIR: join(dir, 'port-taken'),
        PROVENANT_LOG_LEVEL: 'warn',
      });
      assert.equal(res.status, 2, res.stderr);
      assert.equal(
        res.stderr.trim(),
        `provenant: SERVER_CANNOT_LISTEN: cannot listen on 127.0.0.1:${port}: the port is in use (another process listens there: stop it, or choose another port); the address is set by PROVENANT_HOST (--host) and PROVENANT_PORT (--port)`,
      );
    } finally {
      taken.close();
    }
  });

  it('says in one line, exit 2, when the system refuses a path it was given', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const runs = await Promise.all([
      run(['serve', '--port', '0'], { PROVENANT_DATA_DIR: join(file, 'data') }),
      run(['keys', 'generate', '--out', join(file, 'keys')]),
    ]);
    for (const res of runs) {
      assert.equal(res.status, 2, res.stderr);
      assert.match(
        res.stderr.trim(),
        /^provenant: ENOTDIR: not a directory, mkdir '.*a-file\/(data|keys)'$/,
      );
    }
  });

  it('refuses a bad configuration with the variable named', async () => {
    const logVerify = await run(['log', 'verify'], {
      PROVENANT_DATA_DIR: join(dir, 'cfg'),
      PROVENANT_SQLITE_SYNCHRONOUS: 'sometimes',
    });
    assert.equal(logVerify.status, 2);
    assert.match(
      logVerify.stderr,
      /^provenant: CONFIG_INVALID: PROVENANT_SQLITE_SYNCHRONOUS: must be one of FULL, NORMAL/,
    );
    assert.doesNotMatch(logVerify.stderr, /\bat .*\.(ts|js):\d+/);
    const badPort = await run(['serve', '--port', 'x'], { PROVENANT_DATA_DIR: join(dir, 'cfg') });
    assert.equal(badPort.status, 2);
    assert.match(badPort.stderr, /CONFIG_INVALID: PROVENANT_PORT: must be a whole number/);
  });

  it('serves on loopback and shuts down cleanly on SIGTERM', async () => {
    const dataDir = join(dir, 'serve');
    // As `npm start` runs it: development mode, warned about at start and in /readyz.
    const child = spawn(process.execPath, cliArgs('serve', '--dev-anonymous'), {
      env: {
        ...process.env,
        PROVENANT_DATA_DIR: dataDir,
        PROVENANT_PORT: '0',
        PROVENANT_HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      let log = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          log += chunk;
          const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)".*provenant is serving/.exec(log);
          if (match?.[1]) resolve(match[1]);
        });
        child.on('exit', (code) => reject(new Error(`server exited early (${code}): ${log}`)));
      });
      assert.deepEqual(await (await fetch(`${url}/healthz`)).json(), { status: 'ok' });
      const ready = await fetch(`${url}/readyz`);
      assert.equal(ready.status, 200);
      const readiness = (await ready.json()) as { auth: string[]; warning?: string };
      assert.deepEqual(readiness.auth, ['anonymous']);
      assert.match(readiness.warning ?? '', /DEVELOPMENT MODE/);
      assert.match(log, /DEVELOPMENT MODE/);
      const events = (await (await fetch(`${url}/v1/events`)).json()) as { events: unknown[] };
      assert.deepEqual(events.events, []);
      assert.ok(
        existsSync(join(dataDir, 'provenant.db')),
        'the database lives under the data directory',
      );
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
        (resolve) => child.on('exit', (code, signal) => resolve({ code, signal })),
      );
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      assert.equal(signal, null);
      assert.equal(code, 0);
      assert.match(log, /shutting down/);
      assert.match(log, /"msg":"stopped"/);
      // The database was closed cleanly: it opens and verifies.
      const store = getSQLiteEventStore({ path: join(dataDir, 'provenant.db') });
      assert.equal((await store.verifyAll()).ok, true);
      await store.close();
    } finally {
      clearTimeout(guard);
      child.kill('SIGKILL');
    }
  });

  it('log verify exits 0 on an intact log and 1 at the first broken link', async () => {
    const dataDir = join(dir, 'verify');
    const path = join(dataDir, 'provenant.db');
    rmSync(dataDir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dataDir, { recursive: true });
    const store = getSQLiteEventStore({ path });
    await store.append('unit-a', [
      { type: 'A', data: { n: 1 } },
      { type: 'A', data: { n: 2 } },
    ]);
    await store.close();
    const logVerify = await run(['log', 'verify'], { PROVENANT_DATA_DIR: dataDir });
    assert.equal(logVerify.status, 0, logVerify.stderr);
    assert.match(logVerify.stdout, /ok: 2 events verified/);
    const oneStream = await run(['log', 'verify', '--stream', 'unit-a', '--json'], {
      PROVENANT_DATA_DIR: dataDir,
    });
    assert.equal(oneStream.status, 0, oneStream.stderr);
    assert.deepEqual(JSON.parse(oneStream.stdout), { ok: true, checked: 2 });

    const raw = openDatabase(path);
    raw.exec('DROP TRIGGER events_append_only_update');
    raw.prepare('UPDATE events SET data = \'{"n":3}\' WHERE revision = 1').run();
    raw.close();
    const broken = await run(['log', 'verify', '--json'], { PROVENANT_DATA_DIR: dataDir });
    assert.equal(broken.status, 1);
    const result = JSON.parse(broken.stdout) as {
      ok: boolean;
      problem: { kind: string; revision: number; position: string };
    };
    assert.equal(result.ok, false);
    assert.equal(result.problem.kind, 'content-digest-mismatch');
    assert.equal(result.problem.revision, 1);
    assert.equal(result.problem.position, '2');

    const brokenText = await run(['log', 'verify'], { PROVENANT_DATA_DIR: dataDir });
    assert.equal(brokenText.status, 1);
    assert.match(
      brokenText.stdout,
      /^BROKEN after 1 good event: content-digest-mismatch at unit-a@1/,
    );
  });
});
