// The commands that read a SQLite log refuse one that does not exist
// (STORE_NOT_FOUND, exit 2) and create nothing: run in the wrong folder, or with
// a mistyped PROVENANT_DATA_DIR, `log verify` created an empty log there and
// answered "ok: 0 events verified" with exit 0, and `log prove` generated a note
// key and a Merkle file. Only `serve` and `projections run` create a log.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-needs-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'data');
const checkpointFile = join(dir, 'old-checkpoint.txt');
writeFileSync(checkpointFile, 'provenant.local/log\n1\nAAAA\n');

const commands = [
  ['log', 'verify'],
  ['log', 'verify', '--stream', 'unit-zlib/1.3/1.el9/x86_64/rpm'],
  ['log', 'prove', '01M99A9AFRP2XQT3721W4JW7G3'],
  ['log', 'consistency', checkpointFile],
  ['projections', 'status'],
  ['projections', 'rebuild'],
  ['projections', 'dlq', 'list'],
  ['projections', 'dlq', 'retry', '1'],
  ['replay', 'zlib/1.3/1.el9/x86_64/rpm'],
  ['export', 'zlib/1.3/1.el9/x86_64/rpm', '--out', join(dir, 'export')],
];

describe('commands that read the log, where there is none', () => {
  it('refuse with STORE_NOT_FOUND, exit 2, and create no file', async () => {
    const runs = await Promise.all(
      commands.map((args) => runCli(args, 60_000, { PROVENANT_DATA_DIR: data })),
    );
    for (const [index, run] of runs.entries()) {
      const command = commands[index]?.join(' ');
      assert.equal(run.status, 2, `${command}: ${run.stdout}${run.stderr}`);
      assert.match(
        run.stderr,
        /STORE_NOT_FOUND: no log at .*provenant\.db: set PROVENANT_DATA_DIR/,
        `${command}: ${run.stderr}`,
      );
    }
    assert.equal(
      existsSync(data),
      false,
      `created: ${existsSync(data) ? readdirSync(data).join(', ') : ''}`,
    );
    assert.deepEqual(readdirSync(dir), ['old-checkpoint.txt']);
  });
});
