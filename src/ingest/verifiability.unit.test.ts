// The CloudEvents verifiability extension: the spec's binary-data test vector
// verifies with the spec's key; signing and verifying round-trip with ECDSA P-256
// and Ed25519; every kind of tampering is refused with its code; the producer
// policy (mustSign, unknown producers, source globs).
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { isProvenantError, type ErrorCode } from '../errors.js';
import type { CloudEventJson } from './cloudEventSchema.js';
import { createSignaturePolicy, globPattern } from './signaturePolicy.js';
import {
  signEvent,
  verificationMaterial,
  verifyEventSignature,
  VERIFIABILITY_PAYLOAD_TYPE,
} from './verifiability.js';

// The spec's test key (ECDSA P-256), https://github.com/cloudevents/spec/blob/main/cloudevents/extensions/verifiability.md#test-vectors
const coordinate = (n: bigint): string =>
  Buffer.from(n.toString(16).padStart(64, '0'), 'hex').toString('base64url');
const SPEC_KEY = createPublicKey({
  key: {
    kty: 'EC',
    crv: 'P-256',
    x: coordinate(46950820868899156662930047687818585632848591499744589407958293238635476079160n),
    y: coordinate(5640078356564379163099075877009565129882514886557779369047442380624545832820n),
  },
  format: 'jwk',
});
// Case 5, "Binary data".
const CASE_5 = {
  specversion: '1.0',
  id: '1',
  source: 'example/uri',
  type: 'example.type.binary',
  datacontenttype: 'application/octet-stream',
  data_base64: '8J+koQ==',
  dssematerial:
    'eyJwYXlsb2FkVHlwZSI6Imh0dHBzOi8vY2xvdWRldmVudHMuaW8vdmVyaWZpYWJpbGl0eS9kc3NlL3YwLjEiLCJwYXlsb2FkIjoicUNTZWlaa1MraEg5V2lDbGZxNnBsZnFZTlZ5Mmt2eFdSZm9CckxFem9Eaz0iLCJzaWduYXR1cmVzIjpbeyJrZXlpZCI6InRlc3RrZXkiLCJzaWciOiJEWXdiU3V4SDRXcWFhQlZPVlU4TllJYTZXYnZDazkvdkc5aGV0d3BKNHpJNWo2am1BTGRNaHcrcVZuc211YzY2NWZqVlJGVDFRUHUvanA1Z0c0U2pzUT09In1dfQ==',
} as CloudEventJson;

const EVENT = {
  specversion: '1.0',
  id: 'build-42',
  source: 'https://ci.example.com/pipelines/libfoo',
  type: 'dev.provenant.receipt.v1',
  subject: 'libfoo',
  time: '2026-05-01T12:00:00Z',
  datacontenttype: 'application/json',
  exta: 'signed',
  extb: 'unsigned',
  data: { unit: 'libfoo/2.0.0/1.el9/x86_64/rpm', action: 'build', multipass: true },
} as CloudEventJson;

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const keys = new Map<string, KeyObject>([
  ['ci-ec', ec.publicKey],
  ['ci-ed', ed.publicKey],
]);

function refused(event: unknown, code: ErrorCode): void {
  assert.throws(
    () => verifyEventSignature(event as CloudEventJson, keys),
    (error: unknown) => isProvenantError(error) && error.code === code,
    code,
  );
}

const envelopeOf = (event: CloudEventJson) =>
  JSON.parse(Buffer.from(event['dssematerial'] as string, 'base64').toString()) as {
    payload: string;
    payloadType: string;
    signatures: { keyid: string; sig: string }[];
  };
const withEnvelope = (event: CloudEventJson, envelope: object): CloudEventJson => ({
  ...event,
  dssematerial: Buffer.from(JSON.stringify(envelope)).toString('base64'),
});

describe('CloudEvents verifiability (DSSE)', () => {
  it("verifies the spec's binary-data test vector with the spec's key", () => {
    assert.deepEqual(verifyEventSignature(CASE_5, new Map([['testkey', SPEC_KEY]])), {
      keyId: 'testkey',
    });
  });

  it('normalises time to UTC seconds, as the spec requires', () => {
    const zulu = { ...EVENT, time: '2020-06-18T17:24:53Z' };
    const offset = { ...EVENT, time: '2020-06-18T19:24:53+02:00' };
    assert.deepEqual(verificationMaterial(zulu, []), verificationMaterial(offset, []));
  });

  it('signs and verifies with ECDSA P-256 and Ed25519, signed extensions included', () => {
    const signed = signEvent(EVENT, ec.privateKey, 'ci-ec', ['exta']);
    assert.equal(signed['signedextattrs'], 'exta');
    assert.equal(envelopeOf(signed).payloadType, VERIFIABILITY_PAYLOAD_TYPE);
    assert.deepEqual(verifyEventSignature(signed, keys), { keyId: 'ci-ec' });
    assert.deepEqual(verifyEventSignature(signEvent(EVENT, ed.privateKey, 'ci-ed'), keys), {
      keyId: 'ci-ed',
    });
    // An unsigned extension may change; re-serialising the JSON data does not matter.
    assert.deepEqual(verifyEventSignature({ ...signed, extb: 'changed' }, keys), {
      keyId: 'ci-ec',
    });
  });

  describe('refuses every kind of tampering', () => {
    const signed = signEvent(EVENT, ec.privateKey, 'ci-ec', ['exta']);
    const data = EVENT.data as Record<string, unknown>;
    const cases: [string, CloudEventJson][] = [
      ['data changed', { ...signed, data: { ...data, multipass: false } }],
      ['data removed', { ...signed, data: undefined }],
      ['type changed', { ...signed, type: 'dev.provenant.receipt.v2' }],
      ['subject changed', { ...signed, subject: 'libbar' }],
      ['time changed', { ...signed, time: '2026-05-01T12:00:01Z' }],
      ['source changed', { ...signed, source: 'https://ci.example.com/pipelines/other' }],
      ['signed extension changed', { ...signed, exta: 'other' }],
      ['signed extension removed', { ...signed, exta: undefined }],
      ['signedextattrs removed', { ...signed, signedextattrs: undefined }],
    ];
    for (const [what, event] of cases)
      it(what, () => refused(JSON.parse(JSON.stringify(event)), 'INGEST_SIGNATURE_INVALID'));

    it('signature bytes changed', () => {
      const envelope = envelopeOf(signed);
      const sig = Buffer.from(envelope.signatures[0]?.sig ?? '', 'base64');
      sig[10] = (sig[10] ?? 0) ^ 1;
      envelope.signatures = [{ keyid: 'ci-ec', sig: sig.toString('base64') }];
      refused(withEnvelope(signed, envelope), 'INGEST_SIGNATURE_INVALID');
    });
    it('signed payload swapped for another digest', () => {
      const envelope = envelopeOf(signed);
      envelope.payload = Buffer.alloc(32, 7).toString('base64');
      refused(withEnvelope(signed, envelope), 'INGEST_SIGNATURE_INVALID');
    });
    it('payload type changed', () => {
      refused(
        withEnvelope(signed, { ...envelopeOf(signed), payloadType: 'application/json' }),
        'INGEST_SIGNATURE_INVALID',
      );
    });
    it('wrong key (another key under a registered key id)', () => {
      refused(signEvent(EVENT, other.privateKey, 'ci-ec'), 'INGEST_SIGNATURE_INVALID');
    });
    it('unknown key id', () => {
      refused(signEvent(EVENT, ec.privateKey, 'someone-else'), 'INGEST_SIGNATURE_UNKNOWN_KEY');
    });
    it('verification material that is not base64 or not an envelope', () => {
      refused({ ...signed, dssematerial: '%%%' }, 'INGEST_SIGNATURE_MALFORMED');
      refused(
        { ...signed, dssematerial: Buffer.from('[1]').toString('base64') },
        'INGEST_SIGNATURE_MALFORMED',
      );
      refused({ ...signed, signedextattrs: 'id' }, 'INGEST_SIGNATURE_MALFORMED');
      refused({ ...signed, signedextattrs: 'exta,exta' }, 'INGEST_SIGNATURE_MALFORMED');
    });
  });

  describe('producer policy', () => {
    const policy = createSignaturePolicy([
      { id: 'ci', sources: ['https://ci.example.com/**'], keys, mustSign: true },
      { id: 'lax', sources: ['urn:lax:*'], keys, mustSign: false },
    ]);
    it('refuses an unsigned event of a producer that must sign', () => {
      assert.throws(
        () => policy(EVENT),
        (e: unknown) => isProvenantError(e) && e.code === 'INGEST_SIGNATURE_REQUIRED',
      );
    });
    it('records the producer and key id of a verified event', () => {
      assert.deepEqual(policy(signEvent(EVENT, ed.privateKey, 'ci-ed')), {
        verified: true,
        producer: 'ci',
        keyId: 'ci-ed',
      });
    });
    it('records unsigned events of other producers, and leaves unknown sources alone', () => {
      assert.deepEqual(policy({ ...EVENT, source: 'urn:lax:a' }), {
        verified: false,
        producer: 'lax',
        reason: 'unsigned',
      });
      assert.equal(policy({ ...EVENT, source: 'urn:other' }), undefined);
      assert.deepEqual(policy(signEvent({ ...EVENT, source: 'urn:other' }, ec.privateKey, 'x')), {
        verified: false,
        reason: 'no registered producer',
      });
      // A bad signature is refused even from a producer that need not sign.
      assert.throws(
        () =>
          policy({
            ...signEvent({ ...EVENT, source: 'urn:lax:a' }, ec.privateKey, 'ci-ec'),
            id: 'x',
          }),
        (e: unknown) => isProvenantError(e) && e.code === 'INGEST_SIGNATURE_INVALID',
      );
    });
    it('matches source globs: * within a segment, ** across', () => {
      assert.ok(globPattern('urn:lax:*').test('urn:lax:a'));
      assert.ok(!globPattern('urn:lax:*').test('urn:lax:a/b'));
      assert.ok(globPattern('https://ci.example.com/**').test('https://ci.example.com/p/1'));
      assert.ok(!globPattern('https://ci.example.com/**').test('https://ci.example.comx/p'));
      assert.ok(!globPattern('a.b').test('axb'));
    });
  });
});
