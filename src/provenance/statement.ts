// in-toto Statement v1: the layer that binds a predicate to the artifacts it is
// about (its subject). Spec: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
//
// `parseStatement` takes untrusted JSON and returns one of the statements this
// module knows (SLSA Provenance v1, SLSA VSA v1, test-result v0.1), or throws a
// ProvenanceError whose code says what is wrong. `serializeStatement` gives the
// RFC 8785 canonical JSON that is signed.
import { z } from 'zod';
import { canonicalize } from '../encoding/canonicalJson.js';
import type { ProvenanceErrorCode, ProvenanceIssue } from './errors.js';
import { ProvenanceError } from './errors.js';
import { DIGEST_ISSUE, DigestedResourceDescriptorSchema, UriSchema } from './resourceDescriptor.js';
import { SLSA_PROVENANCE_PREDICATE_TYPE, SlsaProvenanceSchema } from './slsaProvenance.js';
import { TEST_RESULT_PREDICATE_TYPE, TestResultSchema } from './testResult.js';
import { SLSA_VSA_PREDICATE_TYPE, VsaSchema } from './vsa.js';

/** `_type` of in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md). */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

/** Media type of a statement as a DSSE payload (in-toto envelope spec). */
export const STATEMENT_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** The subject: the artifacts the statement is about, each with a digest. */
export const SubjectSchema = z.array(DigestedResourceDescriptorSchema).min(1, {
  message: 'a statement needs at least one subject',
});

/** A Statement v1 with any predicate type: the envelope checked, the predicate an object. */
export const StatementSchema = z.looseObject({
  _type: z.literal(STATEMENT_TYPE),
  subject: SubjectSchema,
  predicateType: UriSchema,
  predicate: z.record(z.string(), z.json()),
});
export type Statement = z.infer<typeof StatementSchema>;

/** The schema of a statement whose predicateType is `type` and predicate follows `predicate`. */
const statementOf = <Type extends string, Predicate extends z.ZodType>(
  type: Type,
  predicate: Predicate,
) =>
  z.looseObject({
    _type: z.literal(STATEMENT_TYPE),
    subject: SubjectSchema,
    predicateType: z.literal(type),
    predicate,
  });

/** A statement carrying SLSA Provenance v1. */
export const SlsaProvenanceStatementSchema = statementOf(
  SLSA_PROVENANCE_PREDICATE_TYPE,
  SlsaProvenanceSchema,
);
export type SlsaProvenanceStatement = z.infer<typeof SlsaProvenanceStatementSchema>;

/** A statement carrying a SLSA VSA v1. */
export const VsaStatementSchema = statementOf(SLSA_VSA_PREDICATE_TYPE, VsaSchema);
export type VsaStatement = z.infer<typeof VsaStatementSchema>;

/** A statement carrying an in-toto test result v0.1. */
export const TestResultStatementSchema = statementOf(TEST_RESULT_PREDICATE_TYPE, TestResultSchema);
export type TestResultStatement = z.infer<typeof TestResultStatementSchema>;

/** Every statement this module can parse and build. */
export type KnownStatement = SlsaProvenanceStatement | VsaStatement | TestResultStatement;

const PREDICATE_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  [SLSA_PROVENANCE_PREDICATE_TYPE]: SlsaProvenanceSchema,
  [SLSA_VSA_PREDICATE_TYPE]: VsaSchema,
  [TEST_RESULT_PREDICATE_TYPE]: TestResultSchema,
};

/** The predicate types `parseStatement` accepts. */
export const KNOWN_PREDICATE_TYPES: readonly string[] = Object.keys(PREDICATE_SCHEMAS);

/** zod issues as `{ path, message }`, the path JSON-Pointer-like (`/subject/0/digest/sha256`). */
export const describeIssues = (error: z.ZodError, prefix = ''): ProvenanceIssue[] =>
  error.issues.map((issue) => ({
    path: prefix + issue.path.map((p) => `/${String(p)}`).join(''),
    message: issue.message,
  }));

const isDigestIssue = (issue: z.core.$ZodIssue): boolean =>
  issue.code === 'custom' &&
  (issue.params as { kind?: unknown } | undefined)?.kind === DIGEST_ISSUE;

/** The error for a failed parse: digest problems get their own code, whatever else failed. */
export function schemaError(
  code: ProvenanceErrorCode,
  message: string,
  error: z.ZodError,
  prefix = '',
): ProvenanceError {
  const issues = describeIssues(error, prefix);
  const first = issues[0];
  const where = first === undefined ? '' : `: ${first.path || '(root)'} ${first.message}`;
  if (error.issues.some(isDigestIssue)) {
    const digestIssues = describeIssues(new z.ZodError(error.issues.filter(isDigestIssue)), prefix);
    const at = digestIssues[0];
    return new ProvenanceError(
      'PROVENANCE_BAD_DIGEST',
      `Malformed digest${at === undefined ? '' : `: ${at.path} ${at.message}`}`,
      { issues },
    );
  }
  return new ProvenanceError(code, `${message}${where}`, { issues });
}

/**
 * Parses untrusted JSON as an in-toto Statement v1 with a predicate type this
 * module knows, checking every field rule. Throws ProvenanceError:
 * PROVENANCE_NOT_A_STATEMENT (wrong `_type`, empty subject, predicate not an
 * object...), PROVENANCE_UNKNOWN_PREDICATE_TYPE, PROVENANCE_INVALID_PREDICATE,
 * or PROVENANCE_BAD_DIGEST (any malformed digest, subject or predicate).
 */
export function parseStatement(json: unknown): KnownStatement {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ProvenanceError('PROVENANCE_NOT_A_STATEMENT', 'A statement must be a JSON object');
  const type = (json as Record<string, unknown>)['_type'];
  if (type !== STATEMENT_TYPE)
    throw new ProvenanceError(
      'PROVENANCE_NOT_A_STATEMENT',
      type === undefined
        ? `Not an in-toto Statement v1: _type is missing`
        : `Not an in-toto Statement v1: _type must be ${STATEMENT_TYPE}`,
    );
  const envelope = StatementSchema.safeParse(json);
  if (!envelope.success)
    throw schemaError('PROVENANCE_NOT_A_STATEMENT', 'Not an in-toto Statement v1', envelope.error);
  const { predicateType } = envelope.data;
  const schema = Object.hasOwn(PREDICATE_SCHEMAS, predicateType)
    ? PREDICATE_SCHEMAS[predicateType]
    : undefined;
  if (schema === undefined)
    throw new ProvenanceError(
      'PROVENANCE_UNKNOWN_PREDICATE_TYPE',
      `Unknown predicateType '${predicateType}'; known: ${KNOWN_PREDICATE_TYPES.join(', ')}`,
    );
  const predicate = schema.safeParse(envelope.data.predicate);
  if (!predicate.success)
    throw schemaError(
      'PROVENANCE_INVALID_PREDICATE',
      `Predicate is not a valid ${predicateType}`,
      predicate.error,
      '/predicate',
    );
  return { ...envelope.data, predicate: predicate.data } as KnownStatement;
}

/**
 * Checks a statement a builder made against its schema and returns the parsed
 * value; a failure is a bug in the builder (PROVENANCE_BUILDER_FAULT), so nothing
 * invalid is ever emitted.
 */
export function checkBuilt<S extends z.ZodType>(schema: S, statement: unknown): z.infer<S> {
  const result = schema.safeParse(statement);
  if (result.success) return result.data;
  const issues = describeIssues(result.error);
  throw new ProvenanceError(
    'PROVENANCE_BUILDER_FAULT',
    `Built statement fails its schema: ${issues.map((i) => `${i.path || '(root)'} ${i.message}`).join('; ')}`,
    { issues },
  );
}

/** The statement as RFC 8785 canonical JSON: the exact text that is signed and stored. */
export const serializeStatement = (statement: Statement | KnownStatement): string =>
  canonicalize(statement);
