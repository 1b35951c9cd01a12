// `provenant replay <unitKey>` as a child process on a seeded log: the timeline
// (receipts, verdict changes with before -> after, a revocation and its reason,
// attestations and exports), --as-of, --json, and the exit codes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDomainService } from '../src/application/index.js';
import { exportUnit } from '../src/application/export/exportUnit.js';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import { fixture, issueStagePassedVsa, passRelease } from './support/attestations.js';
import { runCliSync } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-replay-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
const env = { PROVENANT_SQLITE_PATH: join(dir, 'log.db'), PROVENANT_DATA_DIR: dir };

const run = (args: string[]) => runCliSync(args, 60_000, env);

describe('provenant replay', () => {
  let firstPosition = '';
  before(async () => {
    const store = getSQLiteEventStore({ path: env.PROVENANT_SQLITE_PATH });
    const domain = createDomainService({ eventStore: store });
    await domain.defineGate('build', { requiredActions: ['build', 'test'] });
    const first = await domain.recordReceipt({
      unit: UNIT,
      action: 'build',
      multipass: true,
      producer: 'ci-a',
    });
    firstPosition = first.position;
    const second = await domain.recordReceipt({
      unit: UNIT,
      action: 'test',
      multipass: true,
    });
    await domain.revokeReceipt(second.receiptId, 'flaky run', { revokedBy: 'alice' });
    await domain.recordReceipt({ unit: UNIT, action: 'scan', multipass: false, producer: 'ci-b' });
    await store.close();
  });

  it('prints the timeline: receipts, verdict changes, revocations and why', () => {
    const res = run(['replay', UNIT]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`^${UNIT}: \\d+ events`));
    assert.match(res.stdout, /ReceiptRecorded\.v1 +receipt \S+ \[build\] passed from ci-a/);
    assert.match(res.stdout, /ReceiptRecorded\.v1 +receipt \S+ \[scan\] failed from ci-b/);
    assert.match(res.stdout, /gate build: pending -> passed \(receipt-recorded \S+\)/);
    assert.match(res.stdout, /receipt \S+ \[test\] revoked \(by alice\): flaky run/);
    assert.match(res.stdout, /gate build: passed -> pending \(receipt-revoked \S+\)/);
  });

  it('stops at --as-of, prints JSON, and exits 1 for an unknown unit, 2 for a bad point', () => {
    const res = run(['replay', UNIT, '--as-of', firstPosition, '--json']);
    assert.equal(res.status, 0, res.stderr);
    const body = JSON.parse(res.stdout) as { unit: string; entries: { type: string }[] };
    assert.equal(body.unit, UNIT);
    assert.deepEqual(
      body.entries.map((e) => e.type),
      ['ReceiptRecorded.v1'],
    );
    assert.match(
      run(['replay', UNIT, '--as-of', firstPosition]).stdout,
      new RegExp(`^${UNIT}: 1 event as of ${firstPosition}\n`),
    );
    assert.equal(run(['replay', 'zlib/1/1/noarch/rpm']).status, 1);
    const bad = run(['replay', UNIT, '--as-of', 'yesterday']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /QUERY_BAD_AS_OF: --as-of must be an RFC 3339 time/);
    const beyond = run(['replay', UNIT, '--as-of', '999999']);
    assert.equal(beyond.status, 2);
    assert.match(beyond.stderr, /QUERY_AS_OF_IN_FUTURE: --as-of 999999 is beyond the head/);
    assert.equal(run(['replay', 'not-a-key']).status, 2);
    assert.match(run(['replay', '--help']).stdout, /--as-of/);
  });

  it('names each attestation (kind, stage, signer, why) and each export', async () => {
    const path = join(dir, 'attested.db');
    const f = await fixture({ path });
    const { vsa, provenance } = await (async () => {
      try {
        await passRelease(f.domain);
        const vsa = await issueStagePassedVsa(f);
        const provenance = await f.attestations.issueAttestation(
          UNIT,
          { kind: 'provenance' },
          { requestedBy: 'bob' },
        );
        await exportUnit(f.store, UNIT, {
          out: join(dir, 'export'),
          principal: 'carol',
          publicKeys: [f.pair.publicKeyPem],
        });
        return { vsa, provenance };
      } finally {
        await f.store.close();
      }
    })();
    const res = runCliSync(['replay', UNIT], 60_000, {
      PROVENANT_SQLITE_PATH: path,
      PROVENANT_DATA_DIR: dir,
    });
    assert.equal(res.status, 0, res.stderr);
    assert.match(
      res.stdout,
      new RegExp(
        `AttestationIssued\\.v1 attestation ${vsa.attestationId}: vsa of stage release \\(passed\\), 2 receipt\\(s\\), signed by key ${vsa.keyId}, issued on StagePassed ${vsa.stagePassedEventId}`,
      ),
    );
    assert.match(
      res.stdout,
      new RegExp(
        `attestation ${provenance.attestationId}: provenance, 2 receipt\\(s\\), signed by key \\S+, requested by bob`,
      ),
    );
    assert.match(
      res.stdout,
      /UnitExported\.v1 +exported by carol: \d+ files, manifest sha256 [0-9a-f]{64}/,
    );
  });
});
