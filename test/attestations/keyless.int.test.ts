// Keyless signing configured on the server (PROVENANT_FULCIO_URL, _REKOR_URL,
// _TSA_URL, _OIDC_TOKEN_FILE) against @sigstore/mock on loopback: an attestation
// issued with a Fulcio certificate records the certificate's identity and
// verifies against the identity and issuer. (The mocks: test/support/sigstoreMocks.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAttestationService } from '../../src/application/attestations/index.js';
import { loadSigning } from '../../src/composition.js';
import { loadConfig } from '../../src/config.js';
import { UNIT, fixture, passRelease, type Fixture } from '../support/attestations.js';
import {
  MOCK_IDENTITY,
  MOCK_ISSUER,
  identityToken,
  startSigstoreMocks,
  type SigstoreMocks,
} from '../support/sigstoreMocks.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-keyless-'));

describe('keyless signing configured on the server', () => {
  let f: Fixture;
  let mocks: SigstoreMocks;

  before(async () => {
    mocks = await startSigstoreMocks();
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await f.store.close();
    await mocks.close();
  });

  it('needs the token file and a Rekor or TSA URL', () => {
    assert.throws(() => loadConfig({ PROVENANT_FULCIO_URL: 'http://127.0.0.1:1' }), {
      code: 'CONFIG_INVALID',
      message: /PROVENANT_OIDC_TOKEN_FILE: is required/,
    });
    assert.throws(
      () =>
        loadConfig({ PROVENANT_FULCIO_URL: 'http://127.0.0.1:1', PROVENANT_OIDC_TOKEN_FILE: 't' }),
      { code: 'CONFIG_INVALID', message: /PROVENANT_FULCIO_URL: keyless signing needs/ },
    );
    assert.throws(() => loadConfig({ PROVENANT_FULCIO_URL: 'ftp://x' }), /must be an http/);
  });

  it('issues with a Fulcio certificate, records its identity, and verifies by identity and issuer', async () => {
    f = await fixture();
    await passRelease(f.domain);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${identityToken()}\n`);
    const config = loadConfig({
      PROVENANT_DATA_DIR: dir,
      PROVENANT_FULCIO_URL: mocks.fulcioUrl,
      PROVENANT_REKOR_URL: mocks.rekorUrl,
      PROVENANT_TSA_URL: mocks.tsaUrl,
      PROVENANT_OIDC_TOKEN_FILE: tokenFile,
    });
    // The mock Rekor rewrites a 'dsse' proposal into its stored form; 'intoto' verifies.
    const { signing, generated } = loadSigning(config, { rekorEntryType: 'intoto' });
    assert.equal(generated, undefined);
    const attestations = createAttestationService({ eventStore: f.store, signing });
    const issued = await attestations.issueAttestation(UNIT, { kind: 'vsa', stageId: 'release' });
    assert.equal(issued.keyId, undefined);
    const [recorded] = await attestations.listAttestations(UNIT);
    assert.deepEqual(recorded?.signer, { kind: 'keyless', identity: MOCK_IDENTITY });

    const report = await attestations.verify({
      bundle: issued.bundle,
      policy: { certificateIdentity: MOCK_IDENTITY, certificateIssuer: MOCK_ISSUER },
      expected: { kind: 'vsa', unit: UNIT, stageId: 'release' },
      trustedRoot: mocks.trustedRoot,
    });
    assert.equal(report.result, 'valid', JSON.stringify(report.checks));
    const wrong = await attestations.verify({
      bundle: issued.bundle,
      policy: { certificateIdentity: 'someone@example.com', certificateIssuer: MOCK_ISSUER },
      trustedRoot: mocks.trustedRoot,
    });
    assert.deepEqual(
      wrong.checks.filter((c) => !c.ok).map((c) => c.code),
      ['VERIFY_IDENTITY_MISMATCH'],
    );
  });
});
