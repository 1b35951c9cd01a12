// `provenant backup` as an operator runs it: beside a `serve` that clients
// keep writing to; the copy is consistent (the Merkle log's copy never ahead of
// the log's), verifies with `log verify`, and a server started on it signs on.
// Refusals: a non-empty target, a store that is not the embedded SQLite one.
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import { runCli } from './support/cli.js';
import { checkpointOf, clients, postEvent, serve } from './support/serveProcess.js';

const root = mkdtempSync(join(tmpdir(), 'provenant-backup-'));
after(() => rmSync(root, { recursive: true, force: true }));

const env = (dataDir: string) => ({
  PROVENANT_DATA_DIR: dataDir,
  PROVENANT_PORT: '0',
  PROVENANT_AUTH_ANONYMOUS: 'true',
  PROVENANT_CHECKPOINT_EVERY: '10',
  PROVENANT_CHECKPOINT_SECONDS: '1',
});

describe('provenant backup', () => {
  it('copies a store that is being written to; the copy verifies and a server signs on from it', async () => {
    const dataDir = join(root, 'data');
    const server = await serve(env(dataDir));
    const load = clients(server.url, 1, 4);
    const backupDir = join(root, 'backup');
    let backup;
    try {
      await load.after(100);
      backup = await runCli(['backup', backupDir, '--with-keys'], 60_000, env(dataDir));
      await load.after(20); // the writers went on meanwhile
    } finally {
      await load.stop();
      await server.stop('SIGTERM');
    }
    assert.equal(backup.status, 0, backup.stderr);
    assert.match(
      backup.stdout,
      /ok: log up to position \d+; Merkle log of \d+ leaves, latest checkpoint \d+; the copies agree/,
    );
    assert.deepEqual(readdirSync(backupDir).sort(), [
      'log-key.pem',
      'provenant-merkle.db',
      'provenant.db',
      'signing-key.pem',
    ]);
    for (const key of ['log-key.pem', 'signing-key.pem'])
      assert.equal(statSync(join(backupDir, key)).mode & 0o777, 0o600, key);

    // The backup is a data dir of its own: intact, and a server started on it signs on.
    const verified = await runCli(['log', 'verify'], 60_000, env(backupDir));
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    const restored = await serve(env(backupDir));
    try {
      const size = Number(/Merkle log of (\d+) leaves/.exec(backup.stdout)?.[1]);
      const posted = await postEvent(
        restored.url,
        'after-restore',
        'https://ci.example.com/backup-test',
      );
      assert.equal(posted.status, 201);
      assert.ok(Number((await checkpointOf(restored.url, size + 1)).split('\n')[1]) > size);
      assert.doesNotMatch(restored.log(), /TLOG_LOG_MISMATCH|Not signing|not trusted/);
    } finally {
      await restored.stop('SIGTERM');
    }
  });

  it(
    'fails at once on a target folder the system refuses to create (it spun forever)',
    {
      skip: existsSync('/proc/self') ? false : 'no /proc on this system',
    },
    async () => {
      const dataDir = join(root, 'refused-folder');
      mkdirSync(dataDir, { recursive: true });
      const store = getSQLiteEventStore({ path: join(dataDir, 'provenant.db') });
      await store.append('s', [{ type: 'T.v1', data: {} }]);
      await store.close();
      // Node's recursive mkdir loops forever on ENOENT under /proc.
      const refused = await runCli(['backup', '/proc/provenant-backup/x'], 30_000, {
        PROVENANT_DATA_DIR: dataDir,
      });
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, /^provenant: ENOENT: .*mkdir '\/proc\/provenant-backup'/m);
    },
  );

  it('refuses a non-empty target and a store that is not the embedded one (exit 2)', async () => {
    const dataDir = join(root, 'refusals');
    const taken = join(root, 'taken');
    mkdirSync(taken, { recursive: true });
    copyFileSync(import.meta.filename, join(taken, 'something'));
    const [exists, noLog, postgres, help] = await Promise.all([
      runCli(['backup', taken], 60_000, { PROVENANT_DATA_DIR: dataDir }),
      runCli(['backup', join(root, 'nothing')], 60_000, { PROVENANT_DATA_DIR: dataDir }),
      runCli(['backup', join(root, 'pg')], 60_000, {
        PROVENANT_STORE: 'postgres',
        PROVENANT_POSTGRES_URL: 'postgres://nobody@127.0.0.1:1/none',
      }),
      runCli(['backup', '--help'], 60_000),
    ]);
    assert.equal(exists.status, 2);
    assert.match(exists.stderr, /BACKUP_TARGET_EXISTS: .*taken exists and is not empty/);
    assert.equal(noLog.status, 2);
    assert.match(
      noLog.stderr,
      /STORE_NOT_FOUND: no log at .*refusals\/provenant\.db: set PROVENANT_DATA_DIR/,
    );
    assert.equal(postgres.status, 2);
    assert.match(
      postgres.stderr,
      /CONFIG_INVALID: provenant backup copies the embedded SQLite store; PROVENANT_STORE=postgres .*pg_dump/,
    );
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--with-keys[\s\S]*Exit codes:/);
  });
});
