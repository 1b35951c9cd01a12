// Attestations over HTTP with inject(): issuing each kind on demand, listing,
// downloading (bundle and .intoto.jsonl), the stage policy, and POST /v1/verify:
// the round trip, tampering, and the evidence and policy checks against the store.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  LocalKeySigner,
  generateSigningKeyPair,
  signDsse,
} from '../../src/provenance/signing/index.js';
import { createAttestationService } from '../../src/application/attestations/index.js';
import {
  ARTIFACT_SHA256,
  ENCODED_UNIT,
  UNIT,
  fixture,
  fixtureApp,
  passRelease,
  type Fixture,
} from '../support/attestations.js';

interface Issued {
  attestationId: string;
  kind: string;
  predicateType: string;
  statementDigest: string;
  bundleDigest: string;
  keyId: string;
  bundleRetained: boolean;
  bundle: { dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string }[] } };
}
interface Report {
  result: string;
  checks: { name: string; ok: boolean; outcome: string; code?: string; message: string }[];
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('attestations API', () => {
  let f: Fixture;
  let app: FastifyInstance;
  let receipts: { build: string; test: string };

  before(async () => {
    f = await fixture();
    app = await fixtureApp(f);
    receipts = await passRelease(f.domain);
  });
  after(() => app.close());

  const issue = async (body: object) =>
    app.inject({ method: 'POST', url: `/v1/units/${ENCODED_UNIT}/attestations`, payload: body });
  const verify = async (body: object): Promise<Report> => {
    const res = await app.inject({ method: 'POST', url: '/v1/verify', payload: body });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<Report>();
  };
  const failedCodes = (report: Report): (string | undefined)[] =>
    report.checks.filter((c) => !c.ok).map((c) => c.code);

  it('issues provenance, a VSA and a test result on demand (201), each recorded in the unit stream', async () => {
    const kinds = [
      { kind: 'provenance' },
      { kind: 'vsa', stageId: 'release' },
      { kind: 'test-result', receiptId: receipts.test },
    ];
    const ids: string[] = [];
    for (const body of kinds) {
      const res = await issue(body);
      assert.equal(res.statusCode, 201, res.body);
      const issued = res.json<Issued>();
      assert.equal(issued.kind, body.kind);
      assert.equal(issued.bundleRetained, true);
      assert.match(issued.statementDigest, /^[0-9a-f]{64}$/);
      assert.equal(res.headers['location'], `/v1/attestations/${issued.attestationId}`);
      assert.equal(issued.bundle.dsseEnvelope.payloadType, 'application/vnd.in-toto+json');
      ids.push(issued.attestationId);
    }
    const list = await app.inject(`/v1/units/${ENCODED_UNIT}/attestations`);
    assert.equal(list.statusCode, 200, list.body);
    const { attestations } = list.json<{
      attestations: {
        attestationId: string;
        kind: string;
        stage?: { stageId: string };
        trigger: { kind: string };
        signer: { keyId: string };
        subjects: unknown[];
        recordedAt: string;
      }[];
    }>();
    assert.deepEqual(
      attestations.map((a) => a.attestationId),
      ids,
    );
    assert.equal(attestations[1]?.stage?.stageId, 'release');
    assert.equal(attestations[0]?.trigger.kind, 'request');
    assert.match(attestations[0]?.signer.keyId ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(attestations[0]?.subjects, [
      { name: 'openssl.rpm', digest: { sha256: ARTIFACT_SHA256 } },
    ]);
  });

  it('serves the bundle as JSON and the envelope as one .intoto.jsonl line', async () => {
    const issued = (await issue({ kind: 'provenance' })).json<Issued>();
    const bundle = await app.inject(`/v1/attestations/${issued.attestationId}`);
    assert.equal(bundle.statusCode, 200);
    assert.match(String(bundle.headers['content-type']), /^application\/json/);
    assert.deepEqual(bundle.json(), issued.bundle);
    const jsonl = await app.inject(`/v1/attestations/${issued.attestationId}/intoto.jsonl`);
    assert.equal(jsonl.statusCode, 200);
    assert.match(String(jsonl.headers['content-type']), /^application\/jsonl/);
    assert.equal(
      jsonl.headers['content-disposition'],
      `attachment; filename="${issued.attestationId}.intoto.jsonl"`,
    );
    const lines = jsonl.body.split('\n');
    assert.equal(lines.length, 2);
    assert.equal(lines[1], '');
    assert.deepEqual(JSON.parse(lines[0] ?? ''), issued.bundle.dsseEnvelope);
    const unknown = await app.inject('/v1/attestations/01J00000000000000000000000');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json<{ code: string }>().code, 'ATTEST_NOT_FOUND');
    const malformed = await app.inject('/v1/attestations/nope');
    assert.equal(malformed.json<{ code: string }>().code, 'ATTEST_NOT_FOUND');
  });

  it('refuses incomplete or impossible requests with their own codes', async () => {
    const cases: [object, number, string][] = [
      [{ kind: 'vsa' }, 400, 'ATTEST_INVALID_REQUEST'],
      [{ kind: 'test-result' }, 400, 'ATTEST_INVALID_REQUEST'],
      [{ kind: 'nope' }, 400, 'HTTP_VALIDATION'],
      [{ kind: 'vsa', stageId: 'qa' }, 409, 'ATTEST_NO_STAGE_VERDICT'],
      [
        { kind: 'test-result', receiptId: '01J00000000000000000000000' },
        404,
        'DOMAIN_RECEIPT_NOT_FOUND',
      ],
      [{ kind: 'test-result', receiptId: receipts.build }, 422, 'PROVENANCE_INVALID_INPUT'],
    ];
    for (const [body, status, code] of cases) {
      const res = await issue(body);
      assert.equal(res.statusCode, status, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal(res.json<{ code: string }>().code, code);
    }
    const unknownUnit = await app.inject({
      method: 'POST',
      url: `/v1/units/${encodeURIComponent('zlib/1/1/x86_64/rpm')}/attestations`,
      payload: { kind: 'provenance' },
    });
    assert.equal(unknownUnit.json<{ code: string }>().code, 'DOMAIN_UNIT_NOT_FOUND');
    const badKey = await app.inject(`/v1/units/${encodeURIComponent('a/b')}/attestations`);
    assert.equal(badKey.json<{ code: string }>().code, 'DOMAIN_INVALID_UNIT_KEY');
  });

  it('gives the stage policy the VSA carries, and verifies a VSA round trip as valid', async () => {
    const issued = (await issue({ kind: 'vsa', stageId: 'release' })).json<Issued>();
    const statement = JSON.parse(
      Buffer.from(issued.bundle.dsseEnvelope.payload, 'base64').toString(),
    ) as { predicate: { policy: { uri: string; digest: { sha256: string } } } };
    const policy = await app.inject('/v1/stages/release/policy');
    assert.equal(policy.statusCode, 200);
    const current = policy.json<{ uri: string; digest: string; enabled: boolean }>();
    assert.equal(current.uri, statement.predicate.policy.uri);
    assert.equal(current.digest, statement.predicate.policy.digest.sha256);
    assert.equal((await app.inject('/v1/stages/nope/policy')).statusCode, 404);

    const report = await verify({
      bundle: issued.bundle,
      key: f.pair.publicKeyPem,
      expected: {
        kind: 'vsa',
        unit: UNIT,
        stageId: 'release',
        artifactDigest: `sha256:${ARTIFACT_SHA256}`,
        verifierId: f.attestations.verifierId,
      },
    });
    assert.equal(report.result, 'valid', JSON.stringify(report));
    assert.deepEqual(
      report.checks.map((c) => c.name),
      [
        'signature',
        'statement',
        'subject',
        'predicate-type',
        'verifier',
        'result',
        'unit',
        'stage',
        'policy',
        'evidence',
      ],
    );
    // The server's own key is the default, and a bundle sent as text works too.
    assert.equal((await verify({ bundle: JSON.stringify(issued.bundle) })).result, 'valid');
  });

  it('fails tampered payloads, subjects, signatures and keys, each with its own code', async () => {
    const issued = (await issue({ kind: 'provenance' })).json<Issued>();
    const key = f.pair.publicKeyPem;
    const payload = Buffer.from(issued.bundle.dsseEnvelope.payload, 'base64').toString();

    const tampered = clone(issued.bundle);
    tampered.dsseEnvelope.payload = Buffer.from(
      payload.replace('openssl.rpm', 'evil.rpm'),
    ).toString('base64');
    assert.deepEqual(failedCodes(await verify({ bundle: tampered, key })), [
      'VERIFY_SIGNATURE_INVALID',
    ]);

    const badSig = clone(issued.bundle);
    const sig = Buffer.from(badSig.dsseEnvelope.signatures[0]?.sig ?? '', 'base64');
    sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 1;
    badSig.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
    assert.deepEqual(failedCodes(await verify({ bundle: badSig, key })), [
      'VERIFY_SIGNATURE_INVALID',
    ]);

    const other = generateSigningKeyPair().publicKeyPem;
    assert.deepEqual(failedCodes(await verify({ bundle: issued.bundle, key: other })), [
      'VERIFY_UNKNOWN_KEY',
    ]);

    const wrongSubject = await verify({
      bundle: issued.bundle,
      key,
      expected: { artifactDigest: `sha256:${'0'.repeat(64)}` },
    });
    assert.equal(wrongSubject.result, 'invalid');
    assert.deepEqual(failedCodes(wrongSubject), ['VERIFY_SUBJECT_MISMATCH']);

    const wrongKind = await verify({
      bundle: issued.bundle,
      key,
      expected: { kind: 'vsa', builderId: 'https://other.example/builder' },
    });
    assert.deepEqual(failedCodes(wrongKind), [
      'VERIFY_PREDICATE_TYPE_MISMATCH',
      'VERIFY_BUILDER_MISMATCH',
    ]);

    const shortDigest = await app.inject({
      method: 'POST',
      url: '/v1/verify',
      payload: { bundle: issued.bundle, key, expected: { artifactDigest: 'sha256:abcd' } },
    });
    assert.equal(shortDigest.statusCode, 400);
    assert.equal(shortDigest.json<{ code: string }>().code, 'VERIFY_BAD_ARTIFACT_DIGEST');
  });

  it('reports bad input with its own code, never valid', async () => {
    const issued = (await issue({ kind: 'provenance' })).json<Issued>();
    const key = f.pair.publicKeyPem;
    const unknownMedia = clone(issued.bundle) as unknown as Record<string, unknown>;
    unknownMedia['mediaType'] = 'application/vnd.dev.sigstore.bundle.v9+json';
    const badBase64 = clone(issued.bundle);
    badBase64.dsseEnvelope.signatures[0]!.sig = 'not*base64!';
    const cases: [unknown, string][] = [
      ['{ not json', 'VERIFY_BUNDLE_NOT_JSON'],
      [{ hello: 'world' }, 'VERIFY_NOT_A_BUNDLE'],
      [unknownMedia, 'VERIFY_UNKNOWN_MEDIA_TYPE'],
      [badBase64, 'VERIFY_BAD_BASE64'],
    ];
    for (const [bundle, code] of cases) {
      const report = await verify({ bundle, key });
      assert.equal(report.result, 'invalid', code);
      assert.deepEqual(failedCodes(report), [code]);
    }
  });

  it('reports signed payloads that are not known statements with their own codes', async () => {
    const signer = LocalKeySigner.fromPem(f.pair.privateKeyPem);
    const key = f.pair.publicKeyPem;
    const subject = [{ name: 'a', digest: { sha256: ARTIFACT_SHA256 } }];
    const signed = async (payload: unknown, type = 'application/vnd.in-toto+json') =>
      signDsse(Buffer.from(JSON.stringify(payload)), type, signer);
    const cases: [unknown, string, string?][] = [
      [
        { subject, predicateType: 'https://slsa.dev/provenance/v1', predicate: {} },
        'PROVENANCE_NOT_A_STATEMENT',
      ],
      [
        {
          _type: 'https://in-toto.io/Statement/v1',
          subject,
          predicateType: 'https://example.com/x/v1',
          predicate: {},
        },
        'PROVENANCE_UNKNOWN_PREDICATE_TYPE',
      ],
      [{ hello: 'world' }, 'VERIFY_NOT_IN_TOTO', 'text/plain'],
    ];
    for (const [payload, code, type] of cases) {
      const report = await verify({ bundle: await signed(payload, type), key });
      assert.equal(report.result, 'invalid', code);
      assert.deepEqual(failedCodes(report), [code]);
    }
  });

  it('does not store a bundle over the event limit, and says so', async () => {
    const small = createAttestationService({
      eventStore: f.store,
      signing: {
        signer: LocalKeySigner.fromPem(f.pair.privateKeyPem),
        identity: { kind: 'key', keyId: 'ab'.repeat(32) },
      },
      maxEventBytes: 2048,
    });
    const issued = await small.issueAttestation(UNIT, { kind: 'provenance' });
    assert.equal(issued.bundleRetained, false);
    assert.ok(issued.bundle);
    const res = await app.inject(`/v1/attestations/${issued.attestationId}`);
    assert.equal(res.statusCode, 404);
    assert.equal(res.json<{ code: string }>().code, 'ATTEST_BUNDLE_NOT_RETAINED');
    const listed = await f.attestations.getAttestation(issued.attestationId);
    assert.equal(listed.bundleRetained, false);
    assert.equal(listed.bundleDigest, issued.bundleDigest);
  });

  it('fails evidence when a receipt relied on is revoked, and policy when the stage changed', async () => {
    const issued = (await issue({ kind: 'vsa', stageId: 'release' })).json<Issued>();
    const key = f.pair.publicKeyPem;
    const expected = { kind: 'vsa', unit: UNIT, stageId: 'release' };
    assert.equal((await verify({ bundle: issued.bundle, key, expected })).result, 'valid');

    await f.domain.defineGate('build', {
      requiredActions: ['build', 'unit-test'],
      description: 'changed',
    });
    const changed = await verify({ bundle: issued.bundle, key, expected });
    assert.equal(changed.result, 'invalid');
    assert.deepEqual(failedCodes(changed), ['VERIFY_POLICY_MISMATCH']);

    await f.domain.revokeReceipt(receipts.test, 'flaky test run');
    const revoked = await verify({ bundle: issued.bundle, key, expected });
    assert.deepEqual(failedCodes(revoked), ['VERIFY_POLICY_MISMATCH', 'VERIFY_EVIDENCE_REVOKED']);
    const evidence = await app.inject(`/v1/receipts/${receipts.test}/evidence`);
    assert.equal(
      evidence.json<{ revoked?: { reason: string } }>().revoked?.reason,
      'flaky test run',
    );
  });
});
