// Signing configuration: the default key is generated once (0600) and reused; a
// key named by PROVENANT_SIGNING_KEY must exist; bad values name the variable.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadSigning } from '../../src/composition.js';
import { loadConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-signing-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('signing configuration', () => {
  it('has defaults: the key in the data dir, builder and verifier ids, attest on StagePassed', () => {
    const config = loadConfig({ PROVENANT_DATA_DIR: dir }, '/');
    assert.equal(config.attestation.signingKeyPath, join(dir, 'signing-key.pem'));
    assert.equal(config.attestation.signingKeyExplicit, false);
    assert.equal(config.attestation.builderId, 'https://provenant.dev/builders/provenant@v1');
    assert.equal(config.attestation.verifierId, 'https://provenant.dev/verifiers/provenant@v1');
    assert.equal(config.attestation.attestOnStagePassed, true);
    const off = loadConfig({ PROVENANT_DATA_DIR: dir, PROVENANT_ATTEST_ON_STAGE_PASSED: 'false' });
    assert.equal(off.attestation.attestOnStagePassed, false);
    assert.throws(
      () => loadConfig({ PROVENANT_ATTEST_ON_STAGE_PASSED: 'sometimes' }),
      /PROVENANT_ATTEST_ON_STAGE_PASSED: must be true or false/,
    );
    assert.throws(
      () => loadConfig({ PROVENANT_BUILDER_ID: 'not a uri' }),
      /PROVENANT_BUILDER_ID: must be a URI/,
    );
  });

  it('generates the default key once with mode 0600, then reuses it', () => {
    const config = loadConfig({ PROVENANT_DATA_DIR: join(dir, 'data') });
    const first = loadSigning(config);
    assert.ok(first.generated);
    assert.equal(statSync(config.attestation.signingKeyPath).mode & 0o777, 0o600);
    assert.equal(first.generated.publicKeyPath, join(dir, 'data', 'signing-key.pub.pem'));
    const second = loadSigning(config);
    assert.equal(second.generated, undefined);
    assert.deepEqual(second.signing.identity, first.signing.identity);
  });

  it('refuses a named key file that is missing or not a P-256 key (CONFIG_INVALID)', () => {
    const missing = loadConfig({ PROVENANT_SIGNING_KEY: join(dir, 'nope.pem') });
    assert.throws(() => loadSigning(missing), {
      code: 'CONFIG_INVALID',
      message: /PROVENANT_SIGNING_KEY: .*nope\.pem does not exist/,
    });
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key');
    assert.throws(() => loadSigning(loadConfig({ PROVENANT_SIGNING_KEY: garbage })), {
      code: 'CONFIG_INVALID',
      message: /PROVENANT_SIGNING_KEY: .*not a PEM private key/,
    });
  });
});
