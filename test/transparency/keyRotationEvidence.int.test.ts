// Attestations and exports across a note key rotation (docs/transparency.md,
// "Rotating the note key"): an attestation that recorded a checkpoint of the
// old key, one that recorded a checkpoint of the new key; verify-export of a
// unit exported after the rotation follows the exported rotations offline, and
// fails without them; the log checks of `provenant verify` with the old key
// follow the rotations the store gives.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createAttestationService } from '../../src/application/attestations/index.js';
import {
  checkLogInclusions,
  type CheckSink,
  type LogSource,
} from '../../src/application/attestations/logChecks.js';
import { ownLogSource } from '../../src/application/attestations/ownLog.js';
import { exportEvidence, exportUnit, verifyExport } from '../../src/application/export/index.js';
import {
  EventTypes,
  LOG_KEY_STREAM,
  logKeyRotated,
  type AttestationIssuedData,
} from '../../src/domain/events.js';
import type { ErrorCode } from '../../src/errors.js';
import { signCheckpoint } from '../../src/transparency/follower.js';
import { signRotation } from '../../src/transparency/keyRotation.js';
import { noteSigner, type NoteSigner } from '../../src/transparency/note.js';
import { createTransparencyService } from '../../src/transparency/service.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { TreeBuilder } from '../../src/transparency/treeBuilder.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import { resealManifest } from '../support/exportLog.js';
import { UNIT, fixture, passRelease, signingOf } from '../support/attestations.js';
import { runCli } from '../support/cli.js';

const ORIGIN = 'rotation.example/log';
const LATER = 'zlib/1.3.1/1.el9/x86_64/rpm';
const dir = mkdtempSync(join(tmpdir(), 'provenant-keyrotation-evidence-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('attestations and exports across a note key rotation', async () => {
  const f = await fixture();
  const tree = getSQLiteTreeStore({ path: ':memory:' });
  const k0 = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const k1 = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const serviceWith = (signer: NoteSigner) =>
    createTransparencyService({
      tree,
      origin: ORIGIN,
      verifierKey: signer.verifierKey,
      eventStore: f.store,
    });
  const builder = await TreeBuilder.open(tree);
  const checkpointNow = async (signer: NoteSigner): Promise<void> => {
    await builder.catchUp(f.store);
    await signCheckpoint(builder, { eventStore: f.store, tree, signer, origin: ORIGIN });
    await builder.catchUp(f.store);
  };
  const issue = async (unit: string, signer: NoteSigner) =>
    createAttestationService({
      eventStore: f.store,
      signing: signingOf(f.pair),
      transparency: serviceWith(signer),
    }).issueAttestation(unit, { kind: 'vsa', stageId: 'release' });

  // Before the rotation: UNIT's attestation records a checkpoint of k0.
  await passRelease(f.domain, UNIT);
  await checkpointNow(k0);
  await issue(UNIT, k0);
  const treeSize = (await tree.latestCheckpoint())?.size ?? 0;
  await f.store.append(LOG_KEY_STREAM, [
    logKeyRotated(signRotation({ origin: ORIGIN, treeSize, previous: k0, next: k1 })),
  ]);
  // After it: LATER's attestation records a checkpoint of k1.
  await passRelease(f.domain, LATER);
  await checkpointNow(k1);
  const later = await issue(LATER, k1);
  after(async () => {
    await tree.close();
    await f.store.close();
  });

  it('GET /v1/log/key serves the current key and the rotations that lead to it', async () => {
    const app = await buildApp({
      auth: anonymousAuth(),
      store: f.store,
      storeDescription: 'sqlite :memory:',
      transparency: serviceWith(k1),
    });
    try {
      const res = await app.inject('/v1/log/key');
      assert.equal(res.statusCode, 200);
      const body = res.json<{ verifierKey: string; rotations: Record<string, unknown>[] }>();
      assert.equal(body.verifierKey, k1.verifierKey);
      assert.equal(body.rotations.length, 1);
      assert.equal(body.rotations[0]?.['previousVerifierKey'], k0.verifierKey);
      assert.equal(body.rotations[0]?.['verifierKey'], k1.verifierKey);
      assert.match(
        String(body.rotations[0]?.['statement']),
        /^provenant\.dev\/log-key-rotation\/v1\n/,
      );
    } finally {
      await app.close();
    }
  });

  it('verify-export of a unit exported after the rotation passes, through the exported rotation', async () => {
    const out = join(dir, 'export');
    await exportUnit(f.store, UNIT, {
      out,
      publicKeys: [f.pair.publicKeyPem],
      transparency: serviceWith(k1),
    });
    const rotations = readFileSync(join(out, 'transparency', 'key-rotations.jsonl'), 'utf8');
    assert.match(rotations, new RegExp(k1.verifierKey.replace(/[+/]/g, '\\$&')));
    const good = await verifyExport(out);
    assert.deepEqual(good.problems, []);
    // Without the rotations, the attestation's checkpoint (k0) does not verify with the exported key (k1).
    rmSync(join(out, 'transparency', 'key-rotations.jsonl'));
    resealManifest(out, (path) => path === 'transparency/key-rotations.jsonl');
    const bad = await verifyExport(out);
    assert.ok(
      bad.problems.some(
        (p) => p.code === 'EXPORT_CHECKPOINT_INVALID' && /does not verify/.test(p.message),
      ),
      JSON.stringify(bad.problems),
    );
  });

  it('verify --log-key OLD: the checkpoint of the new key verifies through the store rotations', async () => {
    const [event] = await f.store.readAll({ from: BigInt(later.position) - 1n, maxCount: 1 });
    assert.equal(event?.type, EventTypes.AttestationIssued);
    const data = event?.data as AttestationIssuedData;
    const results: { kind: string; name?: string; code?: ErrorCode; message: string }[] = [];
    const sink: CheckSink = {
      pass: (name, message) => results.push({ kind: 'pass', name, message }),
      fail: (name, code, message) => results.push({ kind: 'fail', name, code, message }),
      couldNotCheck: (name, code, message) =>
        results.push({ kind: 'could-not-check', name, code, message }),
      note: (message) => results.push({ kind: 'note', message }),
    };
    const receipts = (data.log?.receipts ?? []).map((r) => ({ receiptId: r.receiptId }));
    const check = (source: LogSource) =>
      checkLogInclusions(
        { source, trustedKey: { key: k0.verifierKey, from: 'given with --log-key' } },
        { unit: LATER, statementDigest: data.statementDigest },
        receipts,
        sink,
      );
    const passes = () => {
      const checkpoint = results.find((r) => r.name === 'log-checkpoint');
      assert.equal(checkpoint?.kind, 'pass', JSON.stringify(results));
      assert.match(checkpoint?.message ?? '', /followed through the log's note key rotations/);
      assert.equal(results.find((r) => r.name === 'log-inclusion')?.kind, 'pass');
      assert.equal(results.find((r) => r.name === 'log-consistency')?.kind, 'pass');
    };
    await check(ownLogSource(f.store, serviceWith(k1)));
    passes();
    // Offline (provenant verify --export DIR --log-key OLD): through the export's rotations.
    results.length = 0;
    const out = join(dir, 'export-later');
    await exportUnit(f.store, LATER, {
      out,
      publicKeys: [f.pair.publicKeyPem],
      transparency: serviceWith(k1),
    });
    await check((await exportEvidence(out)).log);
    passes();
    // A source that gives no rotations: the old key does not verify the new key's checkpoint.
    results.length = 0;
    await check({
      ...ownLogSource(f.store, serviceWith(k1)),
      keyRotations: () => Promise.resolve([]),
    });
    assert.equal(results.find((r) => r.name === 'log-checkpoint')?.kind, 'fail');
  });

  it('provenant verify --store URL --log-key OLD follows the rotations GET /v1/log/key serves', async () => {
    const app = await buildApp({
      auth: anonymousAuth(),
      store: f.store,
      domain: f.domain,
      transparency: serviceWith(k1),
      storeDescription: 'sqlite :memory:',
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const oldKey = join(dir, 'old-log-key.txt');
      writeFileSync(oldKey, `${k0.verifierKey}\n`);
      writeFileSync(join(dir, 'pub.pem'), f.pair.publicKeyPem);
      const res = await runCli([
        'verify',
        '--unit',
        LATER,
        '--stage',
        'release',
        '--key',
        join(dir, 'pub.pem'),
        '--store',
        url,
        '--log-key',
        oldKey,
        '--json',
      ]);
      assert.equal(res.status, 0, res.stdout + res.stderr);
      const checks = (
        JSON.parse(res.stdout) as { checks: { name: string; outcome: string; message: string }[] }
      ).checks.filter((c) => c.name.startsWith('log-'));
      assert.deepEqual(
        checks.map((c) => `${c.name} ${c.outcome}`),
        ['log-checkpoint passed', 'log-inclusion passed', 'log-consistency passed'],
      );
      assert.match(checks[0]?.message ?? '', /followed through the log's note key rotations/);
    } finally {
      await app.close();
    }
  });
});
