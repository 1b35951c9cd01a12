// buildTestResult on the test receipts of test/support/receiptChain.ts: a passing
// and a failing JUnit run, flat results, and what it refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unitSubjects } from './chain.js';
import { parseStatement, serializeStatement } from './statement.js';
import { buildTestResult } from './testResultBuilder.js';
import {
  chain,
  failedTests,
  JUNIT_2,
  passedTests,
  receipt,
  sast,
  sha,
  throwsCode,
} from '../../test/support/receiptChain.js';

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
