// buildVsa on the receipt chain of test/support/receiptChain.ts: the verdict, the
// policy and the receipts it rests on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalize } from '../encoding/canonicalJson.js';
import { receiptDigest, unitSubjects, unitUri } from './chain.js';
import { parseStatement, serializeStatement } from './statement.js';
import type { VsaInput } from './vsaBuilder.js';
import { buildVsa, stageLevel, stagePolicyDigest } from './vsaBuilder.js';
import {
  chain,
  passedTests,
  sast,
  sha,
  throwsCode,
  UNIT,
} from '../../test/support/receiptChain.js';

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
