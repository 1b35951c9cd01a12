// A gate's optional JSON Schema for the custom section of receipts (DESIGN.md §1,
// issue 4). Compiled when the gate is defined, with ajv's draft 2020-12 class in
// strict mode, so that a bad schema is rejected up front rather than at the first
// receipt. Schemas are self-contained: a remote `$ref` (anything not starting with
// `#`) would make evaluation depend on the network, and `$data` would make the
// schema depend on the data, so both are rejected.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import safeRegex from 'safe-regex2';
import { ProvenantError } from '../errors.js';

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on `.default`.
const addFormats = addFormatsModule.default;

/** Deepest nesting accepted in a gate schema. */
export const MAX_SCHEMA_DEPTH = 32;

const REF_KEYWORDS = ['$ref', '$dynamicRef', '$recursiveRef'] as const;

/** A compiled custom-section validator. */
export type CustomValidator = ValidateFunction;

/** One schema violation, as reported to the caller. */
export interface CustomSchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  message: string;
  params: Record<string, unknown>;
}

const invalidSchema = (reason: string, details: Record<string, unknown> = {}): ProvenantError =>
  new ProvenantError('DOMAIN_INVALID_GATE_SCHEMA', `Invalid custom-section schema: ${reason}`, {
    details: { reason, ...details },
  });

/**
 * Refuses a regular expression that can backtrack catastrophically (`^(a+)+$`
 * took 9–12 s on 29 characters, blocking every request meanwhile): star height
 * above one, as `safe-regex2` judges it. A pattern that is not a valid
 * expression is left to ajv, which refuses it with its own message.
 */
function assertSafePattern(pattern: string, path: string): void {
  let valid = true;
  try {
    new RegExp(pattern, 'u');
  } catch {
    valid = false;
  }
  if (valid && !safeRegex(pattern))
    throw new ProvenantError(
      'DOMAIN_UNSAFE_PATTERN',
      `The pattern at ${path || '/'} can take exponential time on some inputs (nested quantifiers); rewrite it without a repeated group that repeats`,
      { details: { path } },
    );
}

/**
 * Rejects what a self-contained schema must not have: remote references and
 * `$data`. Walks the whole document (also data-like keywords such as `const`,
 * which errs on the safe side).
 */
function assertSelfContained(value: unknown, path: string, depth: number): void {
  if (depth > MAX_SCHEMA_DEPTH)
    throw invalidSchema(`nested deeper than ${MAX_SCHEMA_DEPTH} levels`, { path });
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertSelfContained(item, `${path}/${index}`, depth + 1));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  if (typeof record['pattern'] === 'string')
    assertSafePattern(record['pattern'], `${path}/pattern`);
  const patternProperties = record['patternProperties'];
  if (typeof patternProperties === 'object' && patternProperties !== null)
    for (const key of Object.keys(patternProperties))
      assertSafePattern(key, `${path}/patternProperties`);
  if (Object.hasOwn(record, '$data'))
    throw invalidSchema(`'$data' references are not allowed (at ${path || '/'})`, { path });
  for (const keyword of REF_KEYWORDS) {
    const ref = record[keyword];
    if (Object.hasOwn(record, keyword) && typeof ref === 'string' && !ref.startsWith('#'))
      throw invalidSchema(
        `remote ${keyword} '${ref}' is not allowed; only local references starting with '#' are (at ${path || '/'})`,
        { path, ref },
      );
  }
  for (const [key, child] of Object.entries(record))
    assertSelfContained(
      child,
      `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`,
      depth + 1,
    );
}

/**
 * Checks and compiles a gate's custom-section schema. Throws
 * `DOMAIN_INVALID_GATE_SCHEMA` for a remote `$ref`, `$data`, or anything ajv's strict
 * mode refuses (unknown keywords, unknown formats, ambiguous types…), and
 * `DOMAIN_UNSAFE_PATTERN` for a `pattern` or `patternProperties` expression that
 * can backtrack catastrophically.
 */
export function compileCustomSchema(schema: unknown): CustomValidator {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
    throw invalidSchema('the schema must be a JSON object');
  assertSelfContained(schema, '', 0);
  // A fresh instance per schema: schemas may carry their own `$id`, which must not
  // collide with another gate's in a shared instance.
  const ajv = new Ajv2020({ strict: true, allErrors: true, $data: false, validateFormats: true });
  addFormats(ajv);
  try {
    return ajv.compile(schema);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidSchema(reason);
  }
}

/** ajv's errors in the shape reported to callers (no schema or data echoed back). */
export const describeSchemaErrors = (
  errors: readonly ErrorObject[] | null | undefined,
): CustomSchemaError[] =>
  (errors ?? []).map((e) => ({
    instancePath: e.instancePath,
    schemaPath: e.schemaPath,
    keyword: e.keyword,
    message: e.message ?? 'is invalid',
    params: e.params as Record<string, unknown>,
  }));

/**
 * For a schema stored before unsafe patterns were refused: a validator that
 * fails every custom section (naming why) instead of running the pattern.
 */
export function refusingValidator(reason: string): CustomValidator {
  const validate = ((): boolean => {
    validate.errors = [
      {
        instancePath: '',
        schemaPath: '#',
        keyword: 'unsafePattern',
        params: {},
        message: reason,
      },
    ];
    return false;
  }) as unknown as CustomValidator;
  return validate;
}
