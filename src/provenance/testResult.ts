// in-toto test-result predicate v0.1: the outcome of a test run and the
// configuration it ran with. Spec: https://in-toto.io/attestation/test-result/v0.1
// (https://github.com/in-toto/attestation/blob/main/spec/predicates/test-result.md)
import { z } from 'zod';
import { ResourceDescriptorSchema, UriSchema } from './resourceDescriptor.js';

/** predicateType of the test-result predicate v0.1. */
export const TEST_RESULT_PREDICATE_TYPE = 'https://in-toto.io/attestation/test-result/v0.1';

/** The outcomes of a test run. */
export const TestResultOutcomeSchema = z.enum(['PASSED', 'WARNED', 'FAILED']);
export type TestResultOutcome = z.infer<typeof TestResultOutcomeSchema>;

/** The test-result v0.1 predicate. */
export const TestResultSchema = z.looseObject({
  result: TestResultOutcomeSchema,
  /** What the tests ran with: configuration files, the report, the test suite. */
  configuration: z.array(ResourceDescriptorSchema),
  /** Where the run can be seen, e.g. the CI job. */
  url: UriSchema.optional(),
  passedTests: z.array(z.string()).optional(),
  warnedTests: z.array(z.string()).optional(),
  failedTests: z.array(z.string()).optional(),
});
export type TestResult = z.infer<typeof TestResultSchema>;
