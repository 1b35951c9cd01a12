// The builders on a realistic receipt chain: checkout, build with two artifacts,
// a failing unit-test run that was revoked, its passing re-run, a SAST scan.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ReceiptRecordedData } from '../domain/events.js';
import { canonicalize } from '../encoding/canonicalJson.js';
import { buildProvenance, RECEIPT_CHAIN_BUILD_TYPE } from './builders.js';
import type { ChainReceipt, UnitReceiptChain } from './chain.js';
import { receiptDigest, unitSubjects, unitUri } from './chain.js';
import type { ProvenanceErrorCode } from './errors.js';
import { isProvenanceError } from './errors.js';
import { SLSA_PROVENANCE_PREDICATE_TYPE } from './slsaProvenance.js';
import {
  checkBuilt,
  parseStatement,
  serializeStatement,
  SlsaProvenanceStatementSchema,
  STATEMENT_TYPE,
} from './statement.js';
import { buildTestResult } from './testResultBuilder.js';
import type { VsaInput } from './vsaBuilder.js';
import { buildVsa, stageLevel, stagePolicyDigest } from './vsaBuilder.js';

const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const COMMIT = '3f786850e387550fdab836ed7e6dc881de23001b';
const TARBALL = sha('openssl-3.2.1.tar.gz');
const RPM = sha('openssl-3.2.1-2.el9.x86_64.rpm');
const DEBUGINFO = sha('openssl-debuginfo-3.2.1-2.el9.x86_64.rpm');
const JUNIT_1 = sha('junit run 1');
const JUNIT_2 = sha('junit run 2');
const SARIF = sha('sarif');
const RPM_URI = 'https://repo.example.com/el9/x86_64/openssl-3.2.1-2.el9.x86_64.rpm';

const receipt = (
  position: number,
  data: Omit<ReceiptRecordedData, 'unit'>,
  extra: Partial<ChainReceipt> = {},
): ChainReceipt => ({
  eventId: `evt-${position}`,
  position: String(position),
  recordedAt: `2026-05-01T10:${String(position).padStart(2, '0')}:30Z`,
  data: { unit: UNIT, ...data },
  ...extra,
});

const checkout = receipt(10, {
  receiptId: '01JTCHECKOUT0000000000000A',
  action: 'checkout',
  multipass: true,
  custom: {
    source: {
      repository: 'https://git.example.com/rpms/openssl.git',
      commit: COMMIT,
      ref: 'refs/tags/openssl-3.2.1-2.el9',
    },
  },
  artifacts: [{ name: 'openssl-3.2.1.tar.gz', digest: { sha256: TARBALL } }],
  correlationId: 'pipeline-42',
  startedAt: '2026-05-01T10:00:00Z',
  finishedAt: '2026-05-01T10:01:00Z',
});
const build = receipt(20, {
  receiptId: '01JTBUILD00000000000000000',
  action: 'build',
  multipass: true,
  results: { durationSeconds: 1020 },
  artifacts: [
    { name: 'openssl-3.2.1-2.el9.x86_64.rpm', uri: RPM_URI, digest: { sha256: RPM } },
    { uri: 'https://repo.example.com/debug/openssl-debuginfo.rpm', digest: { sha256: DEBUGINFO } },
  ],
  producer: 'https://ci.example.com/pipelines/rpm',
  correlationId: 'pipeline-42',
  startedAt: '2026-05-01T10:02:00Z',
  finishedAt: '2026-05-01T10:19:00Z',
});
const failedTests = receipt(
  30,
  {
    receiptId: '01JTTEST100000000000000000',
    action: 'unit-test',
    multipass: false,
    results: {
      junit: {
        tests: 120,
        failures: 1,
        errors: 0,
        skipped: 2,
        suites: 3,
        failing: [{ name: 'test_x509_verify', classname: 'crypto.X509Test', kind: 'failure' }],
        failingTruncated: false,
        report: { sha256: JUNIT_1 },
      },
    },
    evidence: [{ uri: 'https://ci.example.com/42/junit-1.xml', digest: { sha256: JUNIT_1 } }],
    artifacts: [{ name: 'stray', digest: { sha256: sha('stray') } }],
    correlationId: 'pipeline-42',
    startedAt: '2026-05-01T09:00:00Z',
    finishedAt: '2026-05-01T12:00:00Z',
  },
  { revoked: { reason: 'runner out of disk', revokedBy: 'alice', eventId: 'evt-50' } },
);
const passedTests = receipt(40, {
  receiptId: '01JTTEST200000000000000000',
  action: 'unit-test',
  multipass: true,
  results: {
    junit: {
      tests: 120,
      failures: 0,
      errors: 0,
      skipped: 2,
      suites: 3,
      failing: [],
      failingTruncated: false,
      report: { sha256: JUNIT_2 },
    },
  },
  evidence: [
    {
      uri: 'https://ci.example.com/42/junit-2.xml',
      digest: { sha256: JUNIT_2 },
      mediaType: 'application/xml',
    },
  ],
  artifacts: [{ uri: RPM_URI, digest: { sha256: RPM } }],
  correlationId: 'pipeline-42',
  startedAt: '2026-05-01T10:30:00Z',
  finishedAt: '2026-05-01T10:41:00Z',
});
const sast = receipt(35, {
  receiptId: '01JTSAST000000000000000000',
  action: 'sast',
  multipass: true,
  results: { findings: { high: 0, medium: 2 } },
  evidence: [{ uri: 'https://ci.example.com/42/sast.sarif', digest: { sha256: SARIF } }],
  correlationId: 'pipeline-42',
});

const chain = (receipts: ChainReceipt[] = [checkout, build, failedTests, sast, passedTests]) => ({
  unit: UNIT,
  receipts,
});
const options = { builderId: 'https://ci.example.com/builders/rpm' };

const throwsCode = (fn: () => unknown, code: ProvenanceErrorCode | 'DOMAIN_INVALID_UNIT_KEY') =>
  assert.throws(fn, (error: unknown) => {
    assert.ok(isProvenanceError(error) || (error as { code?: string }).code === code);
    assert.equal((error as { code: string }).code, code, (error as Error).message);
    return true;
  });

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

describe('buildVsa', () => {
  const subjects = unitSubjects(chain());
  const input: VsaInput = {
    unit: UNIT,
    stageId: 'release-candidate',
    stageVersion: 3,
    passed: true,
    stageDefinitionDigest: sha('stage v3'),
    gates: [
      { gateId: 'tests', gateVersion: 2, definitionDigest: sha('tests v2') },
      { gateId: 'security', gateVersion: 1, definitionDigest: sha('security v1') },
    ],
    receipts: [passedTests, sast].map((r) => ({
      receiptId: r.data.receiptId,
      digest: receiptDigest(r.data),
    })),
    timeVerified: '2026-05-01T10:42:00Z',
    verifierId: 'https://provenant.example.com/verifier',
    subjects,
  };

  it('states the verdict, the policy and the receipts it rests on', () => {
    const vsa = buildVsa(input);
    assert.deepEqual(vsa.subject, subjects);
    assert.deepEqual(vsa.predicate, {
      verifier: { id: 'https://provenant.example.com/verifier' },
      timeVerified: '2026-05-01T10:42:00Z',
      resourceUri: `provenant:unit:${UNIT}`,
      policy: {
        uri: 'https://provenant.dev/policies/stage/release-candidate/v3',
        digest: { sha256: stagePolicyDigest(input) },
      },
      inputAttestations: [
        {
          uri: `provenant:receipt:${passedTests.data.receiptId}`,
          digest: { sha256: receiptDigest(passedTests.data) },
        },
        {
          uri: `provenant:receipt:${sast.data.receiptId}`,
          digest: { sha256: receiptDigest(sast.data) },
        },
      ],
      verificationResult: 'PASSED',
      verifiedLevels: ['PROVENANT_STAGE_RELEASE_CANDIDATE'],
    });
    assert.deepEqual(parseStatement(JSON.parse(serializeStatement(vsa))), vsa);
    assert.equal(serializeStatement(buildVsa(input)), serializeStatement(vsa));
  });

  it('computes the policy digest over the stage and gate versions and digests', () => {
    assert.equal(
      stagePolicyDigest(input),
      sha(
        canonicalize({
          stage: { id: 'release-candidate', version: 3, digest: sha('stage v3') },
          gates: [
            { id: 'tests', version: 2, digest: sha('tests v2') },
            { id: 'security', version: 1, digest: sha('security v1') },
          ],
        }),
      ),
    );
  });

  it('changes the policy digest when a gate version changes', () => {
    const [tests, security] = input.gates as [VsaInput['gates'][0], VsaInput['gates'][0]];
    const bumped = { ...input, gates: [{ ...tests, gateVersion: 3 }, security] };
    assert.notEqual(stagePolicyDigest(bumped), stagePolicyDigest(input));
    assert.notEqual(
      buildVsa(bumped).predicate.policy.digest?.['sha256'],
      buildVsa(input).predicate.policy.digest?.['sha256'],
    );
    const newDefinition = { ...input, gates: [{ ...tests, definitionDigest: sha('x') }, security] };
    assert.notEqual(stagePolicyDigest(newDefinition), stagePolicyDigest(input));
  });

  it('claims no level for a failed stage, and takes a resource URI', () => {
    const vsa = buildVsa({ ...input, passed: false, resourceUri: 'pkg:rpm/el9/openssl@3.2.1-2' });
    assert.equal(vsa.predicate.verificationResult, 'FAILED');
    assert.deepEqual(vsa.predicate.verifiedLevels, []);
    assert.equal(vsa.predicate.resourceUri, 'pkg:rpm/el9/openssl@3.2.1-2');
  });

  it('names levels and unit URIs safely', () => {
    assert.equal(stageLevel('qa.stage-2'), 'PROVENANT_STAGE_QA_STAGE_2');
    assert.equal(
      unitUri('pkg/1.0^git1/1/noarch/rpm'),
      'provenant:unit:pkg/1.0%5Egit1/1/noarch/rpm',
    );
  });

  it('refuses malformed digests and times, and an empty subject', () => {
    throwsCode(() => buildVsa({ ...input, stageDefinitionDigest: 'abc' }), 'PROVENANCE_BAD_DIGEST');
    throwsCode(
      () => buildVsa({ ...input, receipts: [{ receiptId: 'r', digest: 'A'.repeat(64) }] }),
      'PROVENANCE_BAD_DIGEST',
    );
    throwsCode(() => buildVsa({ ...input, timeVerified: 'now' }), 'PROVENANCE_INVALID_INPUT');
    throwsCode(() => buildVsa({ ...input, subjects: [] }), 'PROVENANCE_NO_SUBJECT');
    throwsCode(() => buildVsa({ ...input, verifierId: 'me' }), 'PROVENANCE_INVALID_INPUT');
  });
});

describe('buildTestResult', () => {
  const subjects = unitSubjects(chain());

  it('attests a passing JUnit run with its report as configuration', () => {
    const statement = buildTestResult(passedTests, {
      subjects,
      url: 'https://ci.example.com/42',
    });
    assert.deepEqual(statement.subject, subjects);
    assert.deepEqual(statement.predicate, {
      result: 'PASSED',
      configuration: [
        {
          uri: 'https://ci.example.com/42/junit-2.xml',
          digest: { sha256: JUNIT_2 },
          mediaType: 'application/xml',
        },
      ],
      url: 'https://ci.example.com/42',
      failedTests: [],
    });
    assert.deepEqual(parseStatement(JSON.parse(serializeStatement(statement))), statement);
  });

  it('names the failing tests of a failed run', () => {
    const { revoked: _revoked, ...failing } = failedTests;
    const statement = buildTestResult(failing, { subjects });
    assert.equal(statement.predicate.result, 'FAILED');
    assert.deepEqual(statement.predicate.failedTests, ['crypto.X509Test.test_x509_verify']);
  });

  it('warns when a passing receipt reports failures; reads flat results too', () => {
    const flat = receipt(60, {
      receiptId: '01JTTEST300000000000000000',
      action: 'integration-test',
      multipass: true,
      results: { tests: 10, failed: 1, failedTests: ['flaky_login'] },
    });
    const statement = buildTestResult(flat, { subjects });
    assert.equal(statement.predicate.result, 'WARNED');
    assert.deepEqual(statement.predicate.failedTests, ['flaky_login']);
    assert.deepEqual(statement.predicate.configuration, []);
  });

  it('adds the JUnit report when no evidence names it', () => {
    const bare = { ...passedTests, data: { ...passedTests.data, evidence: [] } };
    assert.deepEqual(buildTestResult(bare, { subjects }).predicate.configuration, [
      { name: 'junit-report', digest: { sha256: JUNIT_2 } },
    ]);
  });

  it('refuses a non-test, a revoked or a tampered receipt, and an empty subject', () => {
    throwsCode(() => buildTestResult(sast, { subjects }), 'PROVENANCE_INVALID_INPUT');
    throwsCode(() => buildTestResult(failedTests, { subjects }), 'PROVENANCE_INVALID_INPUT');
    throwsCode(
      () => buildTestResult({ ...passedTests, digest: sha('x') }, { subjects }),
      'PROVENANCE_BAD_DIGEST',
    );
    throwsCode(() => buildTestResult(passedTests, { subjects: [] }), 'PROVENANCE_NO_SUBJECT');
  });
});

describe('unitSubjects', () => {
  it('is what the provenance names', () => {
    const c: UnitReceiptChain = chain();
    assert.deepEqual(unitSubjects(c), buildProvenance(c, options).subject);
  });
});
