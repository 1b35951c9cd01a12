// Files on disk that are not what they should be, through the CLI as an
// operator meets them. The log is never rebuilt: a log file that is no
// database stops `serve` and `log verify` with STORE_INTEGRITY_VIOLATION in one
// line, and the file is left byte for byte. The Merkle log derives from the
// log: a tree file that is no database stops them with TLOG_NOT_AVAILABLE,
// saying to move it aside; once it is, the next start rebuilds the tree from
// the log, and `log verify` matches every checkpoint signed before, the witness
// copy's included; so does one whose header is intact but whose pages past it
// are damaged (PRAGMA quick_check at open). (Read-model files are moved aside and rebuilt on their own:
// test/readModels/sqlite.int.test.ts.)
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { checkpointOfWholeLog, clients, serve } from '../support/serveProcess.js';

const root = mkdtempSync(join(tmpdir(), 'provenant-corrupt-files-'));
after(() => rmSync(root, { recursive: true, force: true }));

const GARBAGE = 'this is not a SQLite database, whatever its name says\n'.repeat(100);

/** A data dir whose log holds events and signed checkpoints (the last one copied to a witness file). */
async function filledStore(name: string) {
  const dir = join(root, name);
  const witnessFile = join(dir, 'witness-checkpoint.txt');
  const env = {
    PROVENANT_DATA_DIR: dir,
    PROVENANT_PORT: '0',
    PROVENANT_AUTH_ANONYMOUS: 'true',
    PROVENANT_CHECKPOINT_EVERY: '10',
    PROVENANT_CHECKPOINT_SECONDS: '1',
    PROVENANT_CHECKPOINT_WITNESS_FILE: witnessFile,
  };
  const server = await serve(env);
  try {
    const load = clients(server.url, 0, 4);
    await load.after(40);
    await load.stop();
    await checkpointOfWholeLog(server.url, dir);
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0, server.log());
  }
  return { dir, env, witnessFile };
}

/** Replaces the SQLite file at `path` (and drops its WAL) with text that is no database. */
function spoil(path: string): void {
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
  writeFileSync(path, GARBAGE);
}

/** `serve` and `log verify` both stop with exit 2 and exactly `line` on stderr. */
async function bothRefuse(env: Record<string, string>, line: string): Promise<void> {
  for (const args of [['serve'], ['log', 'verify']]) {
    const res = await runCli(args, 60_000, env);
    assert.equal(res.status, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.equal(res.stderr.trim(), line);
  }
}

describe('files that are not what they should be', () => {
  it('a log file that is no database stops serve and log verify in one line, and is left as it was', async () => {
    const { dir, env } = await filledStore('log');
    const log = join(dir, 'provenant.db');
    spoil(log);
    await bothRefuse(
      env,
      `provenant: STORE_INTEGRITY_VIOLATION: The log ${log} is not a readable SQLite database (file is not a database); it is left as it is: restore it from a backup`,
    );
    assert.equal(readFileSync(log, 'utf8'), GARBAGE);
  });

  it('a Merkle log file that is no database stops them, saying to move it aside; then it is rebuilt and matches the old checkpoints', async () => {
    const { dir, env, witnessFile } = await filledStore('tree');
    const tree = join(dir, 'provenant-merkle.db');
    const witnessed = readFileSync(witnessFile, 'utf8');
    const intact = await runCli(['log', 'verify', '--json'], 60_000, env);
    assert.equal(intact.status, 0, intact.stderr);
    const before = JSON.parse(intact.stdout) as { checkpointSizesChecked: number };
    assert.ok(before.checkpointSizesChecked >= 2, intact.stdout);

    spoil(tree);
    await bothRefuse(
      env,
      `provenant: TLOG_NOT_AVAILABLE: The Merkle log file ${tree} is not a readable SQLite database (file is not a database). It is derived from the log: move it (and its -wal and -shm files) aside, and the next start rebuilds it from the log and signs a checkpoint of the whole log`,
    );
    assert.equal(readFileSync(tree, 'utf8'), GARBAGE, 'left for the operator to look at');

    // What the message says to do.
    renameSync(tree, `${tree}.bad`);
    const server = await serve(env);
    try {
      await checkpointOfWholeLog(server.url, dir);
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0, server.log());
    }
    copyFileSync(witnessFile, join(dir, 'newest-witness.txt'));
    writeFileSync(witnessFile, witnessed);
    const rebuilt = await runCli(
      ['log', 'verify', '--json', '--checkpoint', witnessFile, join(dir, 'newest-witness.txt')],
      60_000,
      env,
    );
    assert.equal(rebuilt.status, 0, rebuilt.stdout + rebuilt.stderr);
    const after = JSON.parse(rebuilt.stdout) as {
      ok: boolean;
      problems: unknown[];
      checkpointSizesChecked: number;
    };
    assert.equal(after.ok, true);
    assert.deepEqual(after.problems, []);
    // Every checkpoint signed before the file was lost (found in the log's
    // CheckpointSigned events and the old witness copy) matched the rebuilt
    // tree, and so did the one signed after it.
    assert.ok(
      after.checkpointSizesChecked > before.checkpointSizesChecked,
      `${after.checkpointSizesChecked} checkpoints against ${before.checkpointSizesChecked}`,
    );
  });

  it('a Merkle log file damaged past its first page stops them too (PRAGMA quick_check)', async () => {
    const { env, dir } = await filledStore('damaged-tree');
    const tree = join(dir, 'provenant-merkle.db');
    // The header stays: the file opens, and only the queries that reach the
    // damage failed (the signer retried forever, the API said no checkpoint).
    const damaged = readFileSync(tree);
    assert.ok(damaged.length >= 3 * 4096, `${damaged.length} bytes`);
    // Its last page (leaves or nodes, past the schema).
    damaged.fill(0xab, damaged.length - 4096);
    writeFileSync(tree, damaged);
    for (const args of [['serve'], ['log', 'verify']]) {
      const res = await runCli(args, 60_000, env);
      assert.equal(res.status, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(
        res.stderr.trim(),
        new RegExp(
          `^provenant: TLOG_NOT_AVAILABLE: The Merkle log file ${tree} is not a readable SQLite database \\((it fails PRAGMA quick_check: .+|database disk image is malformed)\\)\\. It is derived from the log: move it`,
        ),
      );
    }
    assert.deepEqual(readFileSync(tree), damaged, 'left for the operator to look at');
  });
});
