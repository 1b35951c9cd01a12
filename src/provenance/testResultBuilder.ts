// The in-toto test-result v0.1 statement of one test receipt: the outcome, the
// configuration (the receipt's evidence), and the failing tests' names when the
// receipt lists them (JUnit receipts do, see src/ingest/junit.ts). Pure.
import type { ChainReceipt } from './chain.js';
import { isTestAction, receiptDigest, referenceDescriptor, requireUri } from './chain.js';
import { ProvenanceError, invalidInput } from './errors.js';
import type { DigestedResourceDescriptor, ResourceDescriptor } from './resourceDescriptor.js';
import type { TestResultStatement } from './statement.js';
import { STATEMENT_TYPE, TestResultStatementSchema, checkBuilt } from './statement.js';
import type { TestResultOutcome } from './testResult.js';
import { TEST_RESULT_PREDICATE_TYPE } from './testResult.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export interface TestResultOptions {
  /** The unit's artifacts (unitSubjects). */
  subjects: readonly DigestedResourceDescriptor[];
  /** Where the test run can be seen, e.g. the CI job. */
  url?: string;
}

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
const names = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string') ? [...value] : undefined;

/** Test counts and names from a receipt's results: JUnit (`results.junit`) or flat. */
function testFindings(results: Record<string, unknown>) {
  const junit = isRecord(results['junit']) ? results['junit'] : undefined;
  const from = junit ?? results;
  const failing = Array.isArray(junit?.['failing'])
    ? junit['failing'].flatMap((f) =>
        isRecord(f) && typeof f['name'] === 'string'
          ? [typeof f['classname'] === 'string' ? `${f['classname']}.${f['name']}` : f['name']]
          : [],
      )
    : names(results['failedTests']);
  return {
    failed: count(from['failures']) + count(from['failed']) + count(from['errors']),
    warned: count(from['warnings']) + count(from['warned']),
    passedTests: names(results['passedTests']),
    warnedTests: names(results['warnedTests']),
    failedTests: failing,
    reportSha256: isRecord(junit?.['report']) ? junit['report']['sha256'] : undefined,
  };
}

/**
 * The test-result v0.1 statement of one test receipt (an action whose name
 * contains `test`). FAILED when the receipt did not pass; WARNED when it passed
 * yet reports failures, errors or warnings; PASSED otherwise. The configuration
 * is the receipt's evidence (and its JUnit report when no evidence names it).
 */
export function buildTestResult(
  receipt: ChainReceipt,
  options: TestResultOptions,
): TestResultStatement {
  const { data } = receipt;
  if (!isTestAction(data.action))
    throw invalidInput(`Receipt ${data.receiptId} is for action '${data.action}', not a test`);
  if (receipt.revoked !== undefined)
    throw invalidInput(`Receipt ${data.receiptId} is revoked: ${receipt.revoked.reason}`);
  if (receipt.digest !== undefined && receipt.digest !== receiptDigest(data))
    throw new ProvenanceError(
      'PROVENANCE_BAD_DIGEST',
      `Receipt ${data.receiptId}: digest does not match its data`,
    );
  if (options.subjects.length === 0)
    throw new ProvenanceError('PROVENANCE_NO_SUBJECT', `No subjects for unit '${data.unit}'`);
  requireUri('url', options.url);

  const findings = testFindings(data.results ?? {});
  const result: TestResultOutcome = !data.multipass
    ? 'FAILED'
    : findings.failed > 0 || findings.warned > 0 || (findings.warnedTests?.length ?? 0) > 0
      ? 'WARNED'
      : 'PASSED';
  const configuration: ResourceDescriptor[] = (data.evidence ?? []).map((e) =>
    referenceDescriptor(e, data.receiptId, false),
  );
  const report = findings.reportSha256;
  if (typeof report === 'string' && !configuration.some((c) => c.digest?.['sha256'] === report))
    configuration.push({ name: 'junit-report', digest: { sha256: report } });

  return checkBuilt(TestResultStatementSchema, {
    _type: STATEMENT_TYPE,
    subject: options.subjects.map((s) => ({ ...s })),
    predicateType: TEST_RESULT_PREDICATE_TYPE,
    predicate: {
      result,
      configuration,
      ...(options.url === undefined ? {} : { url: options.url }),
      ...(findings.passedTests === undefined ? {} : { passedTests: findings.passedTests }),
      ...(findings.warnedTests === undefined ? {} : { warnedTests: findings.warnedTests }),
      ...(findings.failedTests === undefined ? {} : { failedTests: findings.failedTests }),
    },
  });
}
