// `provenant verify` as a child process against a Provenant on a loopback port:
// the release gate (passes after the stage passed; fails when the unit never
// passed, when a receipt it relied on was revoked, when a definition changed;
// exit 3 when the store cannot be reached), a bundle file against an artifact,
// tampering and bad input, each with its own code and exit status.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  ARTIFACT,
  ARTIFACT_SHA256,
  UNIT,
  fixture,
  fixtureApp,
  passRelease,
  type Fixture,
} from '../support/attestations.js';
import { runCli, type CliRun } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-verify-'));
const OTHER = 'zlib/1.3/1.el9/x86_64/rpm';
const NEVER = 'curl/8.0/1.el9/x86_64/rpm';

const run = (args: string[]): Promise<CliRun> => runCli(['verify', ...args]);

interface JsonReport {
  result: string;
  checks: { name: string; outcome: string; code?: string }[];
}
const codes = (r: CliRun): (string | undefined)[] =>
  (JSON.parse(r.stdout) as JsonReport).checks
    .filter((c) => c.outcome !== 'passed')
    .map((c) => c.code);

describe('provenant verify', () => {
  let f: Fixture;
  let app: FastifyInstance;
  let url: string;
  let key: string;

  before(async () => {
    f = await fixture();
    app = await fixtureApp(f);
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    key = join(dir, 'pub.pem');
    writeFileSync(key, f.pair.publicKeyPem);
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const gate = (unit: string, ...more: string[]) =>
    run(['--unit', unit, '--stage', 'release', '--key', key, '--store', url, ...more]);

  it('release gate: fails for a unit that never passed, passes once it has, with a readable report', async () => {
    await f.domain.recordReceipt({ unit: NEVER, action: 'build', multipass: true });
    const never = await gate(NEVER, '--json');
    assert.equal(never.status, 1, never.stderr);
    assert.deepEqual(codes(never), ['VERIFY_NO_ATTESTATION']);
    const unknown = await gate('nope/1/1/x86_64/rpm');
    assert.equal(unknown.status, 1);
    assert.match(unknown.stdout, /^INVALID: no VSA .*\[VERIFY_NO_ATTESTATION\]/s);

    await passRelease(f.domain);
    await f.attestations.issueAttestation(UNIT, { kind: 'vsa', stageId: 'release' });
    const ok = await gate(UNIT, '--verifier-id', f.attestations.verifierId);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(
      ok.stdout,
      /^VALID: VSA \w{26} of openssl\/3\.2\.1\/2\.el9\/x86_64\/rpm for stage release/,
    );
    assert.match(ok.stdout, /ok {3}policy: the current policy of stage release/);
    assert.match(ok.stdout, /ok {3}evidence: 2 receipt\(s\)/);
    assert.doesNotMatch(ok.stderr + ok.stdout, /\bat .*\.(ts|js):\d+/);
  });

  it('a bundle file verifies against the artifact file or its digest; tampering and bad input do not', async () => {
    const issued = await f.attestations.issueAttestation(UNIT, { kind: 'provenance' });
    const bundle = join(dir, 'provenance.json');
    writeFileSync(bundle, JSON.stringify(issued.bundle));
    const artifact = join(dir, 'openssl.rpm');
    writeFileSync(artifact, ARTIFACT);
    const base = ['--bundle', bundle, '--key', key];
    const ok = await run([
      ...base,
      '--artifact',
      artifact,
      '--kind',
      'provenance',
      '--builder-id',
      f.attestations.builderId,
    ]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /note: no --store/);
    assert.equal(
      (await run([...base, '--artifact', `sha256:${ARTIFACT_SHA256}`, '--store', url])).status,
      0,
    );

    const wrong = await run([...base, '--artifact', `sha256:${'0'.repeat(64)}`, '--json']);
    assert.equal(wrong.status, 1);
    assert.deepEqual(codes(wrong), ['VERIFY_SUBJECT_MISMATCH']);
    const short = await run([...base, '--artifact', 'sha256:abcd']);
    assert.equal(short.status, 2);
    assert.match(short.stderr, /VERIFY_BAD_ARTIFACT_DIGEST/);

    const json = JSON.parse(readFileSync(bundle, 'utf8')) as { dsseEnvelope: { payload: string } };
    json.dsseEnvelope.payload = Buffer.from(
      Buffer.from(json.dsseEnvelope.payload, 'base64')
        .toString()
        .replace('openssl.rpm', 'evil.rpm'),
    ).toString('base64');
    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(json));
    const bad = await run(['--bundle', tampered, '--key', key, '--json']);
    assert.equal(bad.status, 1);
    assert.deepEqual(codes(bad), ['VERIFY_SIGNATURE_INVALID']);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{ nope');
    const garbage = await run(['--bundle', notJson, '--key', key]);
    assert.equal(garbage.status, 1);
    assert.match(garbage.stdout, /^INVALID: .*\[VERIFY_BUNDLE_NOT_JSON\]/s);

    const usage = await run(['--key', key]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /give --bundle FILE/);
  });

  it('release gate fails when a receipt relied on is revoked, or a definition changed since', async () => {
    const receipts = await passRelease(f.domain, OTHER);
    await f.attestations.issueAttestation(OTHER, { kind: 'vsa', stageId: 'release' });
    assert.equal((await gate(OTHER)).status, 0);
    await f.domain.revokeReceipt(receipts.test, 'wrong commit tested');
    const revoked = await gate(OTHER, '--json');
    assert.equal(revoked.status, 1);
    assert.deepEqual(codes(revoked), ['VERIFY_EVIDENCE_REVOKED']);

    assert.equal((await gate(UNIT)).status, 0);
    await f.domain.defineStage('release', { gates: ['build'], description: 'now with sign-off' });
    const changed = await gate(UNIT, '--json');
    assert.equal(changed.status, 1);
    assert.deepEqual(codes(changed), ['VERIFY_POLICY_MISMATCH']);
  });

  it('exits 3 when the store cannot be reached, and says why', async () => {
    // A port nobody listens on (taken, then freed), and one fetch refuses to use.
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    for (const [store, why] of [
      [`http://127.0.0.1:${closed}`, 'ECONNREFUSED'],
      ['http://127.0.0.1:9', 'bad port'],
    ] as const) {
      const res = await run(['--unit', UNIT, '--stage', 'release', '--key', key, '--store', store]);
      assert.equal(res.status, 3, res.stdout + res.stderr);
      assert.match(res.stdout, new RegExp(`${store} cannot be reached \\(${why}\\)`));
      const json = await run([
        ...['--unit', UNIT, '--stage', 'release', '--key', key, '--store', store, '--json'],
      ]);
      assert.equal((JSON.parse(json.stdout) as JsonReport).result, 'could-not-check');
      assert.deepEqual(codes(json), ['VERIFY_STORE_UNREACHABLE']);
    }
  });
});
