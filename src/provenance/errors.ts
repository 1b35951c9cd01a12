// The errors of the provenance module: a closed subset of the project's one error
// registry (src/errors.ts, STYLE.md §11–12), so that the HTTP edge maps them like
// any other code. Each carries details a caller can act on: the zod issues, as
// `{ path, message }` pairs, when a schema said no.
import type { ErrorCode } from '../errors.js';
import { ProvenantError } from '../errors.js';

/** The codes this module raises. */
export const PROVENANCE_ERROR_CODES = [
  /** Not a JSON object with `_type` https://in-toto.io/Statement/v1, a subject and a predicate. */
  'PROVENANCE_NOT_A_STATEMENT',
  /** A well-formed statement whose predicateType this module does not know. */
  'PROVENANCE_UNKNOWN_PREDICATE_TYPE',
  /** The predicate breaks the field rules of its predicate type. */
  'PROVENANCE_INVALID_PREDICATE',
  /** A digest set has a bad hex value or wrong length, or a digest does not match its data. */
  'PROVENANCE_BAD_DIGEST',
  /** A builder found no artifact to name as the statement's subject. */
  'PROVENANCE_NO_SUBJECT',
  /** A builder's input is not something it can attest (wrong unit, not a test receipt...). */
  'PROVENANCE_INVALID_INPUT',
  /** A builder produced a statement that fails its own schema: a bug, never emitted. */
  'PROVENANCE_BUILDER_FAULT',
] as const satisfies readonly ErrorCode[];

export type ProvenanceErrorCode = (typeof PROVENANCE_ERROR_CODES)[number];

/** One problem a schema found, with a JSON-Pointer-like path. */
export interface ProvenanceIssue {
  readonly path: string;
  readonly message: string;
}

/** An error of the provenance module; `details.issues` lists schema problems when there are any. */
export class ProvenanceError extends ProvenantError {
  declare readonly code: ProvenanceErrorCode;

  constructor(
    code: ProvenanceErrorCode,
    message: string,
    options: { cause?: unknown; issues?: readonly ProvenanceIssue[] } = {},
  ) {
    super(code, message, {
      cause: options.cause,
      ...(options.issues === undefined ? {} : { details: { issues: options.issues } }),
    });
    this.name = 'ProvenanceError';
  }
}

export const isProvenanceError = (error: unknown): error is ProvenanceError =>
  error instanceof ProvenanceError;

/** PROVENANCE_INVALID_INPUT with `message`. */
export const invalidInput = (message: string): ProvenanceError =>
  new ProvenanceError('PROVENANCE_INVALID_INPUT', message);
