// Long commands on a terminal draw a progress bar (cli-progress) with rate and
// ETA, and plain lines otherwise (the other tests read those): `projections
// rebuild` in its own process and requested of a running `projections run`,
// and `log verify`. util-linux `script` gives each command a pseudo-terminal.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import type { EventToAppend } from '../src/eventStore/types.js';
import { cliArgs } from './support/cli.js';

const script = ['/usr/bin/script', '/bin/script'].find((path) => existsSync(path));
const skip =
  script === undefined
    ? 'util-linux `script` is not installed: no pseudo-terminal to run the commands on'
    : false;

const dir = mkdtempSync(join(tmpdir(), 'provenant-terminal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { PROVENANT_DATA_DIR: dir };
const EVENTS = 3000;

const quote = (arg: string): string => `'${arg.replaceAll("'", `'\\''`)}'`;

/** Runs `provenant <args>` on a pseudo-terminal; what the terminal showed, escapes and all. */
function onTerminal(args: string[]): { status: number | null; screen: string } {
  const command = [process.execPath, ...cliArgs(...args)].map(quote).join(' ');
  const run = spawnSync(script as string, ['-qec', command, '/dev/null'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  return { status: run.status, screen: run.stdout };
}

/** The bar's frames as drawn: `<percent>% | <value>/<total>`. */
const frames = (screen: string): string[] =>
  [...screen.matchAll(/\] (\d+)% \| (\d+)\/(\d+)/g)].map((m) => `${m[1]}% ${m[2]}/${m[3]}`);

describe('progress on a terminal', { skip }, () => {
  before(async () => {
    const store = getSQLiteEventStore({ path: join(dir, 'provenant.db') });
    const events: EventToAppend[] = [];
    for (let i = 0; i < EVENTS; i++)
      events.push({
        type: 'ReceiptRecorded.v1',
        data: { receiptId: `r${i}`, unit: `u${i % 10}`, action: 'build', multipass: true },
      });
    await store.append('seed', events);
    await store.close();
  });

  it('projections rebuild draws a bar with rate and ETA that ends at the head', () => {
    const { status, screen } = onTerminal(['projections', 'rebuild', 'receiptsLedger']);
    assert.equal(status, 0, screen);
    assert.match(screen, /receiptsLedger +\[[█░]+\] \d+% \| \d+\/\d+ \| \d+ ev\/s \| ETA /);
    assert.equal(frames(screen).at(-1), `100% ${EVENTS}/${EVENTS}`, screen);
    assert.match(screen, /receiptsLedger: rebuilt from 3,000 events in \d+ ms/);
    // A bar, not the lines drawn when stderr is not a terminal.
    assert.doesNotMatch(screen, /position \d+ of \d+/);
  });

  it('a rebuild requested of a running projections run draws the same bar', async () => {
    const runner = spawn(process.execPath, cliArgs('projections', 'run'), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    runner.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => runner.on('exit', resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (!/^projections running/m.test(log)) {
        if (Date.now() > deadline) assert.fail(`projections run did not start: ${log}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const { status, screen } = onTerminal(['projections', 'rebuild']);
      assert.equal(status, 0, screen);
      assert.match(screen, /the rebuild is requested of it/);
      assert.match(screen, /all projections +\[[█░]+\] \d+% \| \d+\/\d+ \| \d+ ev\/s \| ETA /);
      // The runner signed a checkpoint of the Merkle log meanwhile: the head is past EVENTS.
      assert.match(frames(screen).at(-1) ?? '', /^100% (\d+)\/\1$/, screen);
      assert.doesNotMatch(screen, /ETA (NaN|NF|Inf)/, 'no infinite ETA before the runner begins');
      assert.match(screen, /all projections: rebuilt by the process that runs the projections/);
    } finally {
      runner.kill('SIGTERM');
      assert.equal(await exited, 0, log);
    }
  });

  it('log verify draws a bar over the events it checks', () => {
    const { status, screen } = onTerminal(['log', 'verify']);
    assert.equal(status, 0, screen);
    assert.match(screen, /log verify \[[█░]+\] \d+\/\d+ events \| ETA /);
    const last = [...screen.matchAll(/\] (\d+)\/(\d+) events/g)].at(-1);
    assert.ok(last !== undefined && last[1] === last[2], `the bar ends at the head: ${screen}`);
    assert.match(screen, /ok: 3,\d{3} events verified/);
  });
});
