// Exports carry the Merkle log's signed checkpoint and an inclusion proof per
// exported event; verify-export checks them offline and names an event that is
// not in the log.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createDomainService } from '../../src/application/index.js';
import { exportUnit, verifyExport } from '../../src/application/export/index.js';
import {
  MANIFEST_FILE,
  sha256Hex,
  type ExportManifest,
} from '../../src/application/export/format.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { signCheckpoint } from '../../src/transparency/follower.js';
import { noteSigner } from '../../src/transparency/note.js';
import { createTransparencyService } from '../../src/transparency/service.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { TreeBuilder } from '../../src/transparency/treeBuilder.js';
import { definePipeline, passingReceipts } from '../support/pipeline.js';

const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
const dir = mkdtempSync(join(tmpdir(), 'provenant-tlog-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('exports and the Merkle log', () => {
  it('carry a checkpoint and proofs that verify-export checks, and name an event not in the log', async () => {
    const store = getSQLiteEventStore({ path: ':memory:' });
    const tree = getSQLiteTreeStore({ path: ':memory:' });
    const signer = noteSigner('export.example/log', generateKeyPairSync('ed25519').privateKey);
    const service = createDomainService({ eventStore: store });
    await definePipeline(service);
    for (const receipt of passingReceipts(UNIT)) await service.recordReceipt(receipt);
    const builder = await TreeBuilder.open(tree);
    await builder.catchUp(store);
    await signCheckpoint(builder, {
      eventStore: store,
      tree,
      signer,
      origin: 'export.example/log',
    });
    const transparency = createTransparencyService({
      tree,
      origin: 'export.example/log',
      verifierKey: signer.verifierKey,
    });
    const out = join(dir, 'export');
    await exportUnit(store, UNIT, { out, publicKeys: [], transparency });
    await tree.close();
    await store.close();

    const good = await verifyExport(out);
    assert.deepEqual(good.problems, []);
    assert.ok(
      good.notes.every((n) => !/checkpoint/.test(n)),
      good.notes.join('; '),
    );

    // A tamperer edits an event's metadata (outside its content digest) and rewrites the manifest.
    const eventsPath = join(out, 'events.jsonl');
    const lines = readFileSync(eventsPath, 'utf8').split('\n');
    const first = JSON.parse(lines[0] as string) as {
      id: string;
      metadata: Record<string, unknown>;
    };
    first.metadata.principal = 'mallory';
    lines[0] = JSON.stringify(first);
    writeFileSync(eventsPath, lines.join('\n'));
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST_FILE), 'utf8')) as ExportManifest;
    for (const file of manifest.files) {
      const bytes = readFileSync(join(out, file.path));
      file.sha256 = sha256Hex(bytes);
      file.bytes = bytes.length;
    }
    writeFileSync(join(out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    const bad = await verifyExport(out);
    assert.deepEqual(
      bad.problems.map((p) => p.code),
      ['EXPORT_NOT_IN_LOG'],
    );
    assert.match(bad.problems[0]?.message ?? '', new RegExp(`event ${first.id}`));
  });
});
