// openTransparencyReader (the Merkle log of `export`, `log prove`, `log
// consistency`) names the key of the log's newest CheckpointSigned, past the
// witnesses' CheckpointCosigned events that follow it in `$checkpoints` (more
// than a page of them), and refuses a tree that is not there.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openTransparencyReader } from '../../src/compositionTransparency.js';
import { loadConfig } from '../../src/config.js';
import {
  CHECKPOINT_STREAM,
  checkpointCosigned,
  checkpointSigned,
} from '../../src/domain/logEvents.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-tlog-reader-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const signed = (treeSize: number, verifierKey: string) =>
  checkpointSigned({ origin: 'o', treeSize, rootHash: 'AA==', note: 'n', verifierKey });
const cosigned = (treeSize: number, n: number) =>
  checkpointCosigned({
    origin: 'o',
    treeSize,
    rootHash: 'AA==',
    witness: `w${n}`,
    keyId: '00000000',
    witnessKey: `w${n}+00000000+AA==`,
    timestamp: n,
    signature: 'AA==',
    cosignature: `— w${n} AA==`,
  });

describe('openTransparencyReader', () => {
  it('names the key of the newest CheckpointSigned, past the cosignatures after it', async () => {
    const config = loadConfig({ PROVENANT_DATA_DIR: dir }, dir);
    await getSQLiteTreeStore({ path: config.transparency.path }).close();
    const store = getSQLiteEventStore({ path: config.sqlite.path });
    try {
      await store.append(CHECKPOINT_STREAM, [signed(1, 'old-key')]);
      await store.append(CHECKPOINT_STREAM, [signed(2, 'log-key')]);
      // More cosignatures than one page of the backward read.
      await store.append(
        CHECKPOINT_STREAM,
        Array.from({ length: 150 }, (_, n) => cosigned(2, n)),
      );
      const { tree, service } = await openTransparencyReader(config, store);
      await tree.close();
      assert.equal(service.verifierKey, 'log-key');
    } finally {
      await store.close();
    }
  });

  it('refuses a Merkle log that is not there, and creates none', async () => {
    const other = join(dir, 'other');
    const config = loadConfig({ PROVENANT_DATA_DIR: other }, other);
    const store = getSQLiteEventStore({ path: ':memory:' });
    try {
      await assert.rejects(openTransparencyReader(config, store), {
        code: 'TLOG_NO_CHECKPOINT',
        message: /no Merkle log at .*other.*provenant-merkle\.db/,
      });
    } finally {
      await store.close();
    }
  });
});
