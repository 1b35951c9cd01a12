// Export → verify-export: a unit's evidence exported as a folder and as a
// .tar.gz verifies offline; each kind of tampering is reported with its own code;
// the export is recorded as UnitExported.v1 in the unit's stream.
import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueLocally, type Issued } from '../../../test/support/localAttestations.js';
import { definePipeline, passingReceipts } from '../../../test/support/pipeline.js';
import { EventTypes, unitStreamName, type UnitExportedData } from '../../domain/index.js';
import { getSQLiteEventStore } from '../../eventStore/sqlite/index.js';
import type { EventStore } from '../../eventStore/types.js';
import { LocalKeySigner, generateSigningKeyPair } from '../../provenance/signing/index.js';
import { createDomainService, type DomainService } from '../index.js';
import {
  EVENTS_FILE,
  MANIFEST_FILE,
  bundlePath,
  envelopePath,
  exportUnit,
  keyPath,
  verifyExport,
  type ExportManifest,
} from './index.js';
import { sha256Hex } from './format.js';

const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
const OTHER = 'zlib/1.3.1/1.el9/x86_64/rpm';

let store: EventStore;
let service: DomainService;
let dir: string;
let signer: LocalKeySigner;
let publicKey: string;
const issued: Record<string, Issued[]> = {};
let counter = 0;

/** Exports UNIT (or `unit`) to a fresh folder (or .tar.gz) and returns its path. */
async function exported(unit = UNIT, suffix = ''): Promise<string> {
  const out = join(dir, `export-${++counter}${suffix}`);
  await exportUnit(store, unit, { out, publicKeys: [publicKey], principal: 'auditor' });
  return out;
}

/** What a tamperer who also rewrites the manifest produces: every listed digest recomputed. */
function rewriteManifest(out: string): void {
  const path = join(out, MANIFEST_FILE);
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as ExportManifest;
  for (const file of manifest.files) {
    const bytes = readFileSync(join(out, file.path));
    file.sha256 = sha256Hex(bytes);
    file.bytes = bytes.length;
  }
  writeFileSync(path, JSON.stringify(manifest, null, 2));
}

const editLines = (path: string, edit: (lines: string[]) => string[]): void => {
  const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
  writeFileSync(
    path,
    edit(lines)
      .map((l) => `${l}\n`)
      .join(''),
  );
};

async function firstProblem(out: string): Promise<string | undefined> {
  const result = await verifyExport(out);
  assert.equal(result.ok, result.problems.length === 0);
  return result.problems[0]?.code;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'provenant-export-test-'));
  store = getSQLiteEventStore({ path: ':memory:' });
  service = createDomainService({ eventStore: store });
  const pair = generateSigningKeyPair();
  signer = LocalKeySigner.fromPem(pair.privateKeyPem);
  publicKey = pair.publicKeyPem;
  await definePipeline(service);
  for (const unit of [UNIT, OTHER]) {
    for (const receipt of passingReceipts(unit)) await service.recordReceipt(receipt);
    issued[unit] = [
      await issueLocally(store, unit, { signer, kind: 'provenance', requestedBy: 'release-bot' }),
      await issueLocally(store, unit, { signer, kind: { vsaOf: 'release' } }),
    ];
  }
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('exportUnit → verifyExport', () => {
  it('writes a folder that verifies offline, and records the export in the unit stream', async () => {
    const out = await exported();
    const result = await verifyExport(out);
    assert.deepEqual(result.problems, []);
    assert.equal(result.ok, true);
    assert.equal(result.unit, UNIT);
    assert.equal(result.form, 'folder');
    assert.equal(result.exportedBy, 'auditor');
    assert.equal(result.attestations.length, 2);
    assert.ok(result.attestations.every((a) => a.verified));
    assert.equal(result.attestations[1]?.verificationResult, 'PASSED');
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST_FILE), 'utf8')) as ExportManifest;
    const [provenance, vsa] = issued[UNIT] ?? [];
    assert.ok(provenance && vsa);
    assert.deepEqual(
      manifest.files.map((f) => f.path),
      [
        bundlePath(provenance.attestationId),
        envelopePath(provenance.attestationId),
        bundlePath(vsa.attestationId),
        envelopePath(vsa.attestationId),
        'definitions.jsonl',
        EVENTS_FILE,
        keyPath(signer.keyId),
      ].sort(),
    );
    // Every event of the stream, in order, as stored.
    const lines = readFileSync(join(out, EVENTS_FILE), 'utf8').trim().split('\n');
    const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.equal(first['revision'], 0);
    assert.equal(typeof first['position'], 'string');
    assert.ok((first['metadata'] as Record<string, unknown>)['contentDigest']);

    const { events } = await store.readStream(unitStreamName(UNIT));
    const last = events.at(-1);
    assert.equal(last?.type, EventTypes.UnitExported);
    const data = last.data as UnitExportedData;
    assert.equal(data.manifestDigest, result.manifestSha256);
    assert.equal(data.exportedBy, 'auditor');
    assert.equal(data.unitRevision, lines.length - 1);
    assert.equal(last.metadata.principal, 'auditor');
    // The unit goes on: folds skip the export event.
    const test = passingReceipts(UNIT)[1];
    assert.ok(test);
    const recorded = await service.recordReceipt({ ...test, results: { passed: 121 } });
    assert.ok(recorded.receiptId);
    assert.ok((await service.getUnitStatus(UNIT)).receipts.length >= 4);
  });

  it('writes a .tar.gz of the same folder that verifies offline', async () => {
    const out = await exported(UNIT, '.tar.gz');
    const result = await verifyExport(out);
    assert.deepEqual(result.problems, []);
    assert.equal(result.form, 'archive');
    assert.equal(result.checked.attestations, 2);
    // A damaged archive is a problem, not a crash.
    const damaged = join(dir, 'damaged.tar.gz');
    writeFileSync(damaged, readFileSync(out).subarray(0, 100));
    assert.equal(await firstProblem(damaged), 'EXPORT_UNREADABLE');
  });

  it('refuses a non-empty target and an unknown unit', async () => {
    const out = await exported();
    await assert.rejects(
      exportUnit(store, UNIT, { out, publicKeys: [publicKey] }),
      (error: { code?: string }) => error.code === 'EXPORT_TARGET_EXISTS',
    );
    await assert.rejects(
      exportUnit(store, 'nope/1/1/x86_64/rpm', { out: join(dir, 'x'), publicKeys: [] }),
      (error: { code?: string }) => error.code === 'DOMAIN_UNIT_NOT_FOUND',
    );
  });
});

describe('verifyExport detects tampering', () => {
  it('an edited event: EXPORT_DIGEST_MISMATCH, or EXPORT_CONTENT_DIGEST_MISMATCH once the manifest is rewritten', async () => {
    const out = await exported();
    editLines(join(out, EVENTS_FILE), (lines) =>
      lines.map((line) => line.replace('"passed":120', '"passed":121')),
    );
    assert.equal(await firstProblem(out), 'EXPORT_DIGEST_MISMATCH');
    rewriteManifest(out);
    assert.equal(await firstProblem(out), 'EXPORT_CONTENT_DIGEST_MISMATCH');
  });

  it('a removed event line: EXPORT_CHAIN_BROKEN', async () => {
    const out = await exported();
    editLines(join(out, EVENTS_FILE), (lines) => lines.filter((_, i) => i !== 2));
    rewriteManifest(out);
    assert.equal(await firstProblem(out), 'EXPORT_CHAIN_BROKEN');
  });

  it("a swapped attestation (another unit's bundle under this one's id): EXPORT_ATTESTATION_INVALID", async () => {
    const out = await exported();
    const other = await exported(OTHER);
    const mine = issued[UNIT]?.[0]?.attestationId ?? '';
    const theirs = issued[OTHER]?.[0]?.attestationId ?? '';
    copyFileSync(join(other, bundlePath(theirs)), join(out, bundlePath(mine)));
    copyFileSync(join(other, envelopePath(theirs)), join(out, envelopePath(mine)));
    rewriteManifest(out);
    const result = await verifyExport(out);
    assert.equal(result.problems[0]?.code, 'EXPORT_ATTESTATION_INVALID');
    assert.match(
      result.problems[0]?.message ?? '',
      /not the one its AttestationIssued event records/,
    );
    // The other attestation still verifies.
    assert.deepEqual(
      result.attestations.map((a) => a.verified),
      [false, true],
    );
  });

  it('an altered manifest: EXPORT_DIGEST_MISMATCH', async () => {
    const out = await exported();
    const path = join(out, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as ExportManifest;
    const file = manifest.files[0];
    assert.ok(file);
    file.sha256 = 'f'.repeat(64);
    writeFileSync(path, JSON.stringify(manifest));
    assert.equal(await firstProblem(out), 'EXPORT_DIGEST_MISMATCH');
  });

  it('an extra file: EXPORT_EXTRA_FILE', async () => {
    const out = await exported();
    appendFileSync(join(out, 'attestations', 'forged.sigstore.json'), '{}');
    assert.equal(await firstProblem(out), 'EXPORT_EXTRA_FILE');
  });

  it('a missing file: EXPORT_FILE_MISSING; a missing manifest: EXPORT_MANIFEST_MISSING', async () => {
    const out = await exported();
    rmSync(join(out, keyPath(signer.keyId)));
    assert.equal(await firstProblem(out), 'EXPORT_FILE_MISSING');
    rmSync(join(out, MANIFEST_FILE));
    assert.equal(await firstProblem(out), 'EXPORT_MANIFEST_MISSING');
  });

  it('a key left out of the manifest too: EXPORT_KEY_MISSING', async () => {
    const out = await exported();
    rmSync(join(out, keyPath(signer.keyId)));
    const path = join(out, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as ExportManifest;
    manifest.files = manifest.files.filter((f) => !f.path.startsWith('keys/'));
    writeFileSync(path, JSON.stringify(manifest));
    assert.equal(await firstProblem(out), 'EXPORT_KEY_MISSING');
  });

  it('evidence revoked after the attestation was issued: EXPORT_EVIDENCE_REVOKED', async () => {
    const unit = 'curl/8.9.1/1.el9/x86_64/rpm';
    for (const receipt of passingReceipts(unit)) await service.recordReceipt(receipt);
    const vsa = await issueLocally(store, unit, { signer, kind: { vsaOf: 'release' } });
    const sast = vsa.event.receipts.at(-1)?.receiptId ?? '';
    await service.revokeReceipt(sast, 'scanner misconfigured');
    const result = await verifyExport(await exported(unit));
    assert.equal(result.problems[0]?.code, 'EXPORT_EVIDENCE_REVOKED');
    assert.match(result.problems[0]?.message ?? '', new RegExp(sast));
  });
});
