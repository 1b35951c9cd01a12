// buildProvenance on a realistic receipt chain (test/support/receiptChain.ts):
// checkout, build with two artifacts, a failing unit-test run that was revoked,
// its passing re-run, a SAST scan. The VSA and test-result builders have files of
// their own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalize } from '../encoding/canonicalJson.js';
import { buildProvenance, RECEIPT_CHAIN_BUILD_TYPE } from './builders.js';
import type { ChainReceipt, UnitReceiptChain } from './chain.js';
import { receiptDigest, unitSubjects } from './chain.js';
import { SLSA_PROVENANCE_PREDICATE_TYPE } from './slsaProvenance.js';
import {
  checkBuilt,
  parseStatement,
  serializeStatement,
  SlsaProvenanceStatementSchema,
  STATEMENT_TYPE,
} from './statement.js';
import {
  build,
  chain,
  checkout,
  COMMIT,
  DEBUGINFO,
  failedTests,
  options,
  passedTests,
  RPM,
  RPM_URI,
  sast,
  sha,
  TARBALL,
  throwsCode,
  UNIT,
} from '../../test/support/receiptChain.js';

describe('buildProvenance', () => {
  const statement = buildProvenance(chain(), options);
  const { buildDefinition, runDetails } = statement.predicate;

  it('is a SLSA Provenance v1 statement that parseStatement accepts', () => {
    assert.equal(statement._type, STATEMENT_TYPE);
    assert.equal(statement.predicateType, SLSA_PROVENANCE_PREDICATE_TYPE);
    assert.deepEqual(parseStatement(JSON.parse(serializeStatement(statement))), statement);
  });

  it("names the unit's built artifacts as subjects: deduplicated, no inputs, nothing revoked", () => {
    assert.deepEqual(statement.subject, [
      { name: 'openssl-3.2.1-2.el9.x86_64.rpm', uri: RPM_URI, digest: { sha256: RPM } },
      {
        name: 'https://repo.example.com/debug/openssl-debuginfo.rpm',
        uri: 'https://repo.example.com/debug/openssl-debuginfo.rpm',
        digest: { sha256: DEBUGINFO },
      },
    ]);
  });

  it('records the unit, its NVRPP and its source as external parameters', () => {
    assert.equal(buildDefinition.buildType, RECEIPT_CHAIN_BUILD_TYPE);
    assert.deepEqual(buildDefinition.externalParameters, {
      unit: UNIT,
      nvrpp: {
        name: 'openssl',
        version: '3.2.1',
        release: '2.el9',
        platform: 'x86_64',
        packageType: 'rpm',
      },
      source: {
        repository: 'https://git.example.com/rpms/openssl.git',
        commit: COMMIT,
        ref: 'refs/tags/openssl-3.2.1-2.el9',
      },
    });
  });

  it('resolves the source commit and the input artifacts as dependencies', () => {
    assert.deepEqual(buildDefinition.resolvedDependencies, [
      {
        uri: 'git+https://git.example.com/rpms/openssl.git@refs/tags/openssl-3.2.1-2.el9',
        digest: { gitCommit: COMMIT },
      },
      { name: 'openssl-3.2.1.tar.gz', digest: { sha256: TARBALL } },
    ]);
  });

  it('takes builder, invocation and times from the options and the live receipts', () => {
    assert.deepEqual(runDetails.builder, { id: options.builderId });
    assert.deepEqual(runDetails.metadata, {
      invocationId: 'pipeline-42',
      startedOn: '2026-05-01T10:00:00Z',
      finishedOn: '2026-05-01T10:41:00Z',
    });
    const custom = buildProvenance(chain(), {
      ...options,
      buildType: 'https://example.com/bt/v1',
      invocationId: 'run-7',
      builderVersion: { provenant: '0.1.0' },
    });
    assert.equal(custom.predicate.buildDefinition.buildType, 'https://example.com/bt/v1');
    assert.equal(custom.predicate.runDetails.metadata?.invocationId, 'run-7');
    assert.deepEqual(custom.predicate.runDetails.builder.version, { provenant: '0.1.0' });
  });

  it('compares times across zones and leap seconds', () => {
    const at = (r: ChainReceipt, startedAt: string, finishedAt: string): ChainReceipt => ({
      ...r,
      data: { ...r.data, startedAt, finishedAt },
    });
    const zoned = buildProvenance(
      chain([
        at(build, '2026-05-01T12:00:00+02:00', '2026-06-30T23:59:60Z'),
        at(passedTests, '2026-05-01T10:30:00Z', '2026-07-01T01:59:59.5+02:00'),
      ]),
      options,
    );
    assert.deepEqual(zoned.predicate.runDetails.metadata, {
      invocationId: 'pipeline-42',
      startedOn: '2026-05-01T12:00:00+02:00',
      finishedOn: '2026-06-30T23:59:60Z',
    });
  });

  it('lists every receipt, revoked ones included, in log order, by canonical digest', () => {
    const byproducts = runDetails.byproducts ?? [];
    assert.deepEqual(
      byproducts.map((b) => b.name),
      [checkout, build, failedTests, sast, passedTests].map((r) => `receipt:${r.data.receiptId}`),
    );
    assert.deepEqual(byproducts[2], {
      name: `receipt:${failedTests.data.receiptId}`,
      uri: `provenant:receipt:${failedTests.data.receiptId}`,
      digest: { sha256: sha(canonicalize(failedTests.data)) },
      annotations: {
        action: 'unit-test',
        multipass: false,
        position: '30',
        eventId: 'evt-30',
        recordedAt: '2026-05-01T10:30:30Z',
        revoked: { reason: 'runner out of disk', revokedBy: 'alice', eventId: 'evt-50' },
      },
    });
    assert.equal(byproducts[3]?.annotations?.['revoked'], undefined);
  });

  it('is deterministic: same chain in any order, same bytes', () => {
    const again = buildProvenance(
      chain([passedTests, sast, failedTests, build, checkout]),
      options,
    );
    assert.equal(serializeStatement(again), serializeStatement(statement));
    assert.equal(
      serializeStatement(statement),
      serializeStatement(buildProvenance(chain(), options)),
    );
  });

  it('checks given receipt digests', () => {
    const withDigest = { ...build, digest: receiptDigest(build.data) };
    buildProvenance(chain([checkout, withDigest]), options);
    throwsCode(
      () => buildProvenance(chain([checkout, { ...build, digest: sha('other') }]), options),
      'PROVENANCE_BAD_DIGEST',
    );
  });

  it('refuses a chain with nothing to attest or receipts it cannot read', () => {
    throwsCode(() => buildProvenance(chain([checkout, sast]), options), 'PROVENANCE_NO_SUBJECT');
    throwsCode(
      () => buildProvenance(chain([{ ...build, revoked: { reason: 'bad' } }]), options),
      'PROVENANCE_NO_SUBJECT',
    );
    throwsCode(
      () => buildProvenance({ unit: 'openssl/3.2.2/1.el9/x86_64/rpm', receipts: [build] }, options),
      'PROVENANCE_INVALID_INPUT',
    );
    throwsCode(
      () => buildProvenance(chain([{ ...build, position: '-1' }]), options),
      'PROVENANCE_INVALID_INPUT',
    );
    throwsCode(() => buildProvenance(chain([build, build]), options), 'PROVENANCE_INVALID_INPUT');
    throwsCode(
      () =>
        buildProvenance(
          chain([build, { ...sast, data: { ...sast.data, custom: { source: { commit: 'x' } } } }]),
          options,
        ),
      'PROVENANCE_INVALID_INPUT',
    );
    throwsCode(
      () => buildProvenance({ unit: 'not-a-unit', receipts: [] }, options),
      'DOMAIN_INVALID_UNIT_KEY',
    );
  });

  it('refuses artifacts the receipt schema let through but in-toto cannot describe', () => {
    const withArtifact = (artifact: object) => ({
      ...build,
      data: { ...build.data, artifacts: [artifact as { digest: Record<string, string> }] },
    });
    throwsCode(
      () =>
        buildProvenance(
          chain([withArtifact({ digest: { sha256: RPM, sha1: 'ab'.repeat(21) } })]),
          options,
        ),
      'PROVENANCE_BAD_DIGEST',
    );
    throwsCode(
      () =>
        buildProvenance(
          chain([withArtifact({ uri: 'https://x/a b', digest: { sha256: RPM } })]),
          options,
        ),
      'PROVENANCE_INVALID_INPUT',
    );
  });

  it('refuses options that are not URIs', () => {
    throwsCode(
      () => buildProvenance(chain(), { builderId: 'not a uri' }),
      'PROVENANCE_INVALID_INPUT',
    );
    throwsCode(
      () => buildProvenance(chain(), { ...options, buildType: 'receipt chain' }),
      'PROVENANCE_INVALID_INPUT',
    );
  });

  it('never emits an invalid statement: what fails its schema is a builder fault', () => {
    const broken = { ...statement, subject: [] };
    throwsCode(() => checkBuilt(SlsaProvenanceStatementSchema, broken), 'PROVENANCE_BUILDER_FAULT');
  });
});

describe('unitSubjects', () => {
  it('is what the provenance names', () => {
    const c: UnitReceiptChain = chain();
    assert.deepEqual(unitSubjects(c), buildProvenance(c, options).subject);
  });
});
