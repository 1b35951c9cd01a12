// An export carries, for the checkpoint each of its attestations recorded, a
// consistency proof to the export's own checkpoint and the inclusion proofs of
// the attestation's receipts under it; verify-export checks them offline. A
// consistent export passes; an edited or removed consistency proof, an edited
// inclusion proof, a checkpoint from a rewritten log (another root at its
// size), one newer than the export's, and one signed by another key each fail
// with their code.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyExport } from '../../src/application/export/index.js';
import { readCheckpointUnverified } from '../../src/transparency/note.js';
import {
  CONSISTENT,
  FOREIGN,
  NEWER,
  REWRITTEN,
  editConsistencyProof,
  exportLogScenario,
  resealManifest,
  type ExportLogScenario,
} from '../support/exportLog.js';

const CONSISTENCY = join('transparency', 'consistency.jsonl');
const PROOFS = join('transparency', 'proofs.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'provenant-export-consistency-'));
let s: ExportLogScenario;
let counter = 0;

const exported = async (unit = CONSISTENT): Promise<string> => {
  const out = join(dir, `export-${++counter}`);
  await s.exportTo(unit, out);
  return out;
};
const codes = async (out: string): Promise<string[]> =>
  (await verifyExport(out)).problems.map((p) => p.code);
const jsonLines = (path: string): Record<string, unknown>[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

before(async () => {
  s = await exportLogScenario();
});
after(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('attestation checkpoints in exports', () => {
  it("carry a consistency proof from the attestation's checkpoint to the export's, which verifies", async () => {
    const out = await exported();
    const exportSize = readCheckpointUnverified(
      readFileSync(join(out, 'transparency', 'checkpoint.txt'), 'utf8'),
    ).size;
    assert.ok(s.attestedSize < exportSize, `${s.attestedSize} < ${exportSize}`);
    const [line, ...more] = jsonLines(join(out, CONSISTENCY));
    assert.deepEqual(more, []);
    assert.equal(line?.['fromSize'], s.attestedSize);
    assert.equal(line?.['toSize'], exportSize);
    assert.ok(Array.isArray(line?.['proof']) && line['proof'].length > 0);
    // The two receipts the VSA relies on, proved under its checkpoint too.
    assert.equal(
      jsonLines(join(out, PROOFS)).filter((p) => p['treeSize'] === s.attestedSize).length,
      2,
    );
    const manifest = readFileSync(join(out, 'manifest.json'), 'utf8');
    assert.match(manifest, /"path": "transparency\/consistency\.jsonl"/);

    const result = await verifyExport(out);
    assert.deepEqual(result.problems, []);
    assert.ok(
      result.notes.every((n) => !/checkpoint/.test(n)),
      result.notes.join('; '),
    );
  });

  it('an edited consistency proof: EXPORT_DIGEST_MISMATCH, or EXPORT_LOG_INCONSISTENT once the manifest is rewritten', async () => {
    const out = await exported();
    editConsistencyProof(out);
    assert.deepEqual(await codes(out), ['EXPORT_DIGEST_MISMATCH', 'EXPORT_LOG_INCONSISTENT']);
    resealManifest(out);
    const result = await verifyExport(out);
    assert.deepEqual(
      result.problems.map((p) => p.code),
      ['EXPORT_LOG_INCONSISTENT'],
    );
    assert.match(result.problems[0]?.message ?? '', /does not extend the checkpoint attestation/);
  });

  it('a removed consistency proof: EXPORT_LOG_INCONSISTENT (the line, or the whole file)', async () => {
    const out = await exported();
    writeFileSync(join(out, CONSISTENCY), '');
    resealManifest(out);
    const result = await verifyExport(out);
    assert.deepEqual(
      result.problems.map((p) => p.code),
      ['EXPORT_LOG_INCONSISTENT'],
    );
    assert.match(result.problems[0]?.message ?? '', /carries no consistency proof from size/);

    rmSync(join(out, CONSISTENCY));
    resealManifest(out, (path) => path === 'transparency/consistency.jsonl');
    assert.deepEqual(await codes(out), ['EXPORT_LOG_INCONSISTENT']);
  });

  it("an edited inclusion proof under the attestation's checkpoint: EXPORT_NOT_IN_LOG", async () => {
    const out = await exported();
    const lines = jsonLines(join(out, PROOFS)).map((line) =>
      line['treeSize'] === s.attestedSize ? { ...line, leafIndex: 0 } : line,
    );
    writeFileSync(join(out, PROOFS), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    resealManifest(out);
    assert.deepEqual(await codes(out), ['EXPORT_NOT_IN_LOG', 'EXPORT_NOT_IN_LOG']);
  });

  it('an attestation checkpoint from a rewritten log (another root at its size): EXPORT_LOG_INCONSISTENT', async () => {
    const result = await verifyExport(await exported(REWRITTEN));
    assert.equal(result.problems[0]?.code, 'EXPORT_LOG_INCONSISTENT');
    assert.match(result.problems[0]?.message ?? '', /another root at size \d+: a split view/);
    // Its receipts are not the leaves of that tree either.
    assert.deepEqual(
      result.problems.slice(1).map((p) => p.code),
      ['EXPORT_NOT_IN_LOG', 'EXPORT_NOT_IN_LOG'],
    );
  });

  it("an attestation checkpoint newer than the export's is reported, not a crash", async () => {
    const out = await exported(NEWER);
    assert.deepEqual(jsonLines(join(out, CONSISTENCY)), []);
    const result = await verifyExport(out);
    assert.deepEqual(
      result.problems.map((p) => p.code),
      ['EXPORT_LOG_INCONSISTENT'],
    );
    assert.match(result.problems[0]?.message ?? '', /newer than the export's checkpoint/);
  });

  it('an attestation checkpoint signed by another key: EXPORT_CHECKPOINT_INVALID', async () => {
    const result = await verifyExport(await exported(FOREIGN));
    assert.deepEqual(
      result.problems.map((p) => p.code),
      ['EXPORT_CHECKPOINT_INVALID'],
    );
    assert.match(result.problems[0]?.message ?? '', /does not verify with the exported log key/);
  });
});
