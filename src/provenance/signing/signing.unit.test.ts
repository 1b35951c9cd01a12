// Sign → verify round trips with a local key, and each kind of tampering failing
// with its own code.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SerializedBundle } from '@sigstore/bundle';
import { ProvenantError } from '../../errors.js';
import { parseTrustedRoot, verifyBundle, type VerifyErrorCode } from '../verify/index.js';
import {
  BUNDLE_MEDIA_TYPE,
  generateSigningKeyPair,
  keyIdOf,
  LocalKeySigner,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  signDsse,
  writeSigningKeyPair,
} from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-signing-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const pair = generateSigningKeyPair();
const signer = LocalKeySigner.fromPem(pair.privateKeyPem);
const artifact = Buffer.from('the built artifact\n');
const artifactSha256 = createHash('sha256').update(artifact).digest('hex');
const statement = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'artifact.txt', digest: { sha256: artifactSha256 } }],
    predicateType: 'https://example.com/test/v1',
    predicate: {},
  }),
);
const IN_TOTO = 'application/vnd.in-toto+json';

const clone = (bundle: SerializedBundle): SerializedBundle =>
  JSON.parse(JSON.stringify(bundle)) as SerializedBundle;

function rejects(run: () => unknown, code: VerifyErrorCode): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ProvenantError, `not a ProvenantError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

describe('local key signing', () => {
  it('signs a DSSE envelope into a v0.3 bundle with the key id as hint, no witnesses', async () => {
    const bundle = await signDsse(statement, IN_TOTO, signer);
    assert.equal(bundle.mediaType, BUNDLE_MEDIA_TYPE);
    assert.equal(bundle.verificationMaterial.publicKey?.hint, pair.keyId);
    assert.deepEqual(bundle.verificationMaterial.tlogEntries ?? [], []); // offline: no witnesses
    assert.equal(bundle.dsseEnvelope?.payloadType, IN_TOTO);
    assert.equal(bundle.dsseEnvelope?.signatures[0]?.keyid, pair.keyId);
    assert.equal(
      Buffer.from(bundle.dsseEnvelope?.payload ?? '', 'base64').toString(),
      statement.toString(),
    );
  });

  it('round-trips: the bundle verifies with the public key against the artifact or its digest', async () => {
    const bundle = await signDsse(statement, IN_TOTO, signer);
    const result = verifyBundle(
      JSON.stringify(bundle),
      { publicKey: pair.publicKeyPem },
      { bytes: artifact },
    );
    assert.deepEqual(result.signer, { kind: 'key', keyId: pair.keyId });
    assert.equal(result.payloadType, IN_TOTO);
    assert.equal(result.artifactSha256, artifactSha256);
    assert.deepEqual(result.payload, statement);
    verifyBundle(bundle, { publicKey: pair.publicKeyPem }, { sha256: `sha256:${artifactSha256}` });
    // Without an artifact the payload alone is checked.
    verifyBundle(bundle, { publicKey: pair.publicKeyPem });
  });

  it('checks a non-in-toto payload against the artifact as the payload itself', async () => {
    const bundle = await signDsse(artifact, 'text/plain', signer);
    verifyBundle(bundle, { publicKey: pair.publicKeyPem }, { bytes: artifact });
    rejects(
      () => verifyBundle(bundle, { publicKey: pair.publicKeyPem }, { bytes: Buffer.from('other') }),
      'VERIFY_SUBJECT_MISMATCH',
    );
  });

  it('rejects a tampered payload (VERIFY_SIGNATURE_INVALID)', async () => {
    const bundle = clone(await signDsse(statement, IN_TOTO, signer));
    const tampered = statement.toString().replace('example.com', 'example.org');
    bundle.dsseEnvelope!.payload = Buffer.from(tampered).toString('base64');
    rejects(
      () => verifyBundle(bundle, { publicKey: pair.publicKeyPem }, { bytes: artifact }),
      'VERIFY_SIGNATURE_INVALID',
    );
  });

  it('rejects a tampered payload type (VERIFY_SIGNATURE_INVALID: the PAE covers it)', async () => {
    const bundle = clone(await signDsse(statement, IN_TOTO, signer));
    bundle.dsseEnvelope!.payloadType = 'application/json';
    rejects(
      () => verifyBundle(bundle, { publicKey: pair.publicKeyPem }),
      'VERIFY_SIGNATURE_INVALID',
    );
  });

  it('rejects a tampered signature (VERIFY_SIGNATURE_INVALID)', async () => {
    const bundle = clone(await signDsse(statement, IN_TOTO, signer));
    const sig = Buffer.from(bundle.dsseEnvelope!.signatures[0]!.sig, 'base64');
    sig[sig.length - 1]! ^= 0x01;
    bundle.dsseEnvelope!.signatures[0]!.sig = sig.toString('base64');
    rejects(
      () => verifyBundle(bundle, { publicKey: pair.publicKeyPem }),
      'VERIFY_SIGNATURE_INVALID',
    );
  });

  it('rejects a bundle signed by another key (VERIFY_UNKNOWN_KEY)', async () => {
    const bundle = await signDsse(statement, IN_TOTO, signer);
    const other = generateSigningKeyPair();
    rejects(() => verifyBundle(bundle, { publicKey: other.publicKeyPem }), 'VERIFY_UNKNOWN_KEY');
    // With the hint removed, the other key is tried and the signature fails.
    const hintless = clone(bundle);
    hintless.verificationMaterial.publicKey!.hint = '';
    rejects(
      () => verifyBundle(hintless, { publicKey: other.publicKeyPem }),
      'VERIFY_SIGNATURE_INVALID',
    );
  });

  it('rejects an artifact that is not a subject (VERIFY_SUBJECT_MISMATCH)', async () => {
    const bundle = await signDsse(statement, IN_TOTO, signer);
    rejects(
      () => verifyBundle(bundle, { publicKey: pair.publicKeyPem }, { bytes: Buffer.from('other') }),
      'VERIFY_SUBJECT_MISMATCH',
    );
    rejects(
      () => verifyBundle(bundle, { publicKey: pair.publicKeyPem }, { sha256: 'sha256:abc' }),
      'VERIFY_SUBJECT_MISMATCH',
    );
  });

  it('rejects tampered bundle JSON, each with its own code', async () => {
    const json = JSON.stringify(await signDsse(statement, IN_TOTO, signer));
    const key = { publicKey: pair.publicKeyPem };
    rejects(() => verifyBundle(json.slice(0, -10), key), 'VERIFY_BUNDLE_NOT_JSON');
    rejects(() => verifyBundle('[1, 2]', key), 'VERIFY_NOT_A_BUNDLE');
    rejects(() => verifyBundle(JSON.stringify({ hello: 'world' }), key), 'VERIFY_NOT_A_BUNDLE');
    rejects(
      () => verifyBundle(json.replace('bundle.v0.3+json', 'bundle.v9.9+json'), key),
      'VERIFY_UNKNOWN_MEDIA_TYPE',
    );
    const badBase64 = JSON.parse(json) as SerializedBundle;
    badBase64.dsseEnvelope!.signatures[0]!.sig = 'not*base64!';
    rejects(() => verifyBundle(badBase64, key), 'VERIFY_BAD_BASE64');
    const noMaterial = JSON.parse(json) as Record<string, unknown>;
    delete noMaterial.verificationMaterial;
    rejects(() => verifyBundle(noMaterial, key), 'VERIFY_NOT_A_BUNDLE');
    const twoSignatures = JSON.parse(json) as SerializedBundle;
    twoSignatures.dsseEnvelope!.signatures.push(twoSignatures.dsseEnvelope!.signatures[0]!);
    rejects(() => verifyBundle(twoSignatures, key), 'VERIFY_NOT_A_BUNDLE');
  });

  it('asks for a key when a key bundle is checked against an identity, and vice versa', async () => {
    const bundle = await signDsse(statement, IN_TOTO, signer);
    rejects(
      () =>
        verifyBundle(bundle, { certificateIdentity: 'me', certificateIssuer: 'https://issuer' }),
      'VERIFY_UNKNOWN_KEY',
    );
    rejects(() => verifyBundle(bundle, { publicKey: 'not a key' }), 'VERIFY_TRUST_MATERIAL');
  });

  it('refuses keys that are not ECDSA P-256', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const ed = generateKeyPairSync('ed25519').privateKey;
    for (const key of [p384, ed]) {
      assert.throws(() => LocalKeySigner.fromKeyObject(key), { code: 'SIGN_INVALID_KEY' });
    }
    assert.throws(() => LocalKeySigner.fromPem('garbage'), { code: 'SIGN_INVALID_KEY' });
  });
});

describe('trust material checks', () => {
  it('rejects a trusted root whose tlog has no validity start (the library would trust it from the epoch)', () => {
    const root = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: 'https://rekor.example',
          hashAlgorithm: 'SHA2_256',
          publicKey: {
            rawBytes: Buffer.from(
              pair.publicKeyPem.split('\n').slice(1, -2).join(''),
              'base64',
            ).toString('base64'),
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          },
          logId: { keyId: Buffer.from(pair.keyId, 'hex').toString('base64') },
        },
      ],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    };
    assert.throws(() => parseTrustedRoot(JSON.stringify(root)), { code: 'VERIFY_TRUST_MATERIAL' });
    root.tlogs[0]!.publicKey = {
      ...root.tlogs[0]!.publicKey,
      validFor: { start: '2024-01-01T00:00:00Z' },
    } as (typeof root.tlogs)[0]['publicKey'];
    parseTrustedRoot(JSON.stringify(root));
    assert.throws(() => parseTrustedRoot('{"mediaType":"x"}'), { code: 'VERIFY_TRUST_MATERIAL' });
    assert.throws(() => parseTrustedRoot('nope'), { code: 'VERIFY_TRUST_MATERIAL' });
  });
});

describe('key pair files', () => {
  it('writes the private key with mode 0600 and the key id of the public key', () => {
    const out = join(dir, 'keys');
    const written = writeSigningKeyPair(out);
    assert.equal(written.privateKeyPath, join(out, PRIVATE_KEY_FILE));
    assert.equal(statSync(written.privateKeyPath).mode & 0o777, 0o600);
    assert.match(readFileSync(written.privateKeyPath, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    const pub = readFileSync(join(out, PUBLIC_KEY_FILE), 'utf8');
    assert.match(pub, /^-----BEGIN PUBLIC KEY-----/);
    const fromFile = LocalKeySigner.fromPem(readFileSync(written.privateKeyPath));
    assert.equal(fromFile.keyId, written.keyId);
    assert.match(written.keyId, /^[0-9a-f]{64}$/);
    assert.equal(keyIdOf(createPublicKey(pub)), written.keyId);
  });

  it('refuses to overwrite without force; with force, replaces both and keeps 0600', () => {
    const out = join(dir, 'again');
    const first = writeSigningKeyPair(out);
    assert.throws(() => writeSigningKeyPair(out), { code: 'SIGN_KEY_EXISTS' });
    assert.equal(LocalKeySigner.fromPem(readFileSync(first.privateKeyPath)).keyId, first.keyId);
    const pubOnly = join(dir, 'pub-only');
    mkdirSync(pubOnly);
    writeFileSync(join(pubOnly, PUBLIC_KEY_FILE), '');
    assert.throws(() => writeSigningKeyPair(pubOnly), { code: 'SIGN_KEY_EXISTS' });
    assert.equal(existsSync(join(pubOnly, PRIVATE_KEY_FILE)), false);
    const second = writeSigningKeyPair(out, { force: true });
    assert.notEqual(second.keyId, first.keyId);
    assert.equal(statSync(second.privateKeyPath).mode & 0o777, 0o600);
  });
});
