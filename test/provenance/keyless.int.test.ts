// Keyless signing end to end, offline: @sigstore/mock's Fulcio, Rekor and TSA
// handlers served by node:http on loopback, @sigstore/sign's FulcioSigner and
// witnesses talking to them, and the verifier checking the bundle against a
// trusted root made from the mock services' keys and certificates.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { keylessSigning, signDsse } from '../../src/provenance/signing/index.js';
import { verifyBundle } from '../../src/provenance/verify/index.js';
import {
  MOCK_IDENTITY,
  MOCK_ISSUER,
  identityToken,
  startSigstoreMocks,
  type SigstoreMocks,
} from '../support/sigstoreMocks.js';

const IN_TOTO = 'application/vnd.in-toto+json';

describe('keyless signing against @sigstore/mock (Fulcio, Rekor, TSA on loopback)', () => {
  let mocks: SigstoreMocks;

  before(async () => {
    mocks = await startSigstoreMocks();
  });

  after(async () => {
    await mocks.close();
  });

  const statement = (sha256: string): Buffer =>
    Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'a', digest: { sha256 } }],
        predicateType: 'https://example.com/p/v1',
        predicate: {},
      }),
    );
  const digest = createHash('sha256').update('artifact').digest('hex');

  it('signs with a Fulcio certificate, logs to Rekor, timestamps with the TSA, and verifies', async () => {
    const { signer, witnesses } = keylessSigning({
      fulcioURL: mocks.fulcioUrl,
      rekorURL: mocks.rekorUrl,
      // The mock Rekor logs a proposed entry verbatim, where a real Rekor
      // rewrites a 'dsse' proposal into its stored form; an 'intoto' proposal
      // already has the stored form's fields, so it verifies.
      rekorEntryType: 'intoto',
      tsaURL: mocks.tsaUrl,
      identityProvider: { getToken: () => Promise.resolve(identityToken()) },
      retry: 0,
      timeout: 10_000,
    });
    const bundle = await signDsse(statement(digest), IN_TOTO, signer, witnesses);
    assert.ok(bundle.verificationMaterial.certificate, 'a certificate, not a key');
    assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
    assert.equal(
      bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length,
      1,
    );

    const result = verifyBundle(
      bundle,
      { certificateIdentity: MOCK_IDENTITY, certificateIssuer: MOCK_ISSUER },
      { sha256: digest },
      { trustedRoot: mocks.trustedRoot },
    );
    assert.deepEqual(result.signer, {
      kind: 'certificate',
      identity: MOCK_IDENTITY,
      issuer: MOCK_ISSUER,
    });

    assert.throws(
      () =>
        verifyBundle(
          bundle,
          { certificateIdentity: 'someone-else@example.com', certificateIssuer: MOCK_ISSUER },
          { sha256: digest },
          { trustedRoot: mocks.trustedRoot },
        ),
      { code: 'VERIFY_IDENTITY_MISMATCH' },
    );
    assert.throws(
      () =>
        verifyBundle(
          bundle,
          { certificateIdentity: MOCK_IDENTITY, certificateIssuer: 'https://other.example' },
          { sha256: digest },
          { trustedRoot: mocks.trustedRoot },
        ),
      { code: 'VERIFY_IDENTITY_MISMATCH' },
    );
    // Under the public-good root the mock CA is not trusted.
    assert.throws(
      () =>
        verifyBundle(
          bundle,
          { certificateIdentity: MOCK_IDENTITY, certificateIssuer: MOCK_ISSUER },
          { sha256: digest },
        ),
      (error: { code?: string }) =>
        error.code === 'VERIFY_CERTIFICATE' ||
        error.code === 'VERIFY_TLOG' ||
        error.code === 'VERIFY_TIMESTAMP',
    );
  });

  it('reports an unreachable service as SIGN_FAILED', async () => {
    const { signer, witnesses } = keylessSigning({
      fulcioURL: 'http://127.0.0.1:9',
      identityProvider: { getToken: () => Promise.resolve(identityToken()) },
      retry: 0,
      timeout: 2_000,
    });
    await assert.rejects(signDsse(statement(digest), IN_TOTO, signer, witnesses), {
      code: 'SIGN_FAILED',
    });
  });
});
