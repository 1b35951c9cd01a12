// Strict validation of one CloudEvent in its JSON form against
// schemas/cloudevents/cloudevent.v1.json (DESIGN.md §4: "the SDK parses; our own
// JSON Schemas validate strictly"). Each kind of problem gets its own error code,
// so a producer can tell a missing attribute from an empty one or a bad time.
import type { ErrorObject } from 'ajv/dist/2020.js';
import cloudEventSchema from '../../schemas/cloudevents/cloudevent.v1.json' with { type: 'json' };
import { ProvenantError, type ErrorCode } from '../errors.js';
import type { JsonValue } from '../eventStore/types.js';
import { ingestAjv, schemaProblems } from './ajv.js';
import { isJsonMediaType, parseMediaType } from './mediaType.js';

/** The context attributes the CloudEvents 1.0 spec defines (everything else is an extension). */
export const CONTEXT_ATTRIBUTES: ReadonlySet<string> = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
]);

/**
 * A validated CloudEvent in the CloudEvents JSON format: context attributes,
 * extensions at the top level, and `data` (JSON or text) or `data_base64`. This is
 * the form the idempotency digest covers and `PipelineEventRecorded` stores.
 */
export interface CloudEventJson {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string;
  readonly time?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly data?: JsonValue;
  readonly data_base64?: string;
  readonly [extension: string]: JsonValue | undefined;
}

const validate = ingestAjv.compile(cloudEventSchema);

// Most specific first: the code of the first matching class wins.
const CLASSES: ReadonlyArray<{ code: ErrorCode; matches: (e: ErrorObject) => boolean }> = [
  {
    code: 'INGEST_INVALID_CLOUDEVENT',
    matches: (e) => e.instancePath === '' && e.keyword === 'type',
  },
  { code: 'INGEST_BAD_SPECVERSION', matches: (e) => e.instancePath === '/specversion' },
  { code: 'INGEST_MISSING_ATTRIBUTE', matches: (e) => e.keyword === 'required' },
  { code: 'INGEST_EMPTY_ATTRIBUTE', matches: (e) => e.keyword === 'minLength' },
  {
    code: 'INGEST_BAD_EXTENSION_NAME',
    matches: (e) => e.keyword === 'propertyNames' || e.propertyName !== undefined,
  },
  { code: 'INGEST_BAD_TIME', matches: (e) => e.instancePath === '/time' },
];

/** Picks the error code for a failed validation. */
function classify(errors: readonly ErrorObject[]): ErrorCode {
  for (const { code, matches } of CLASSES) if (errors.some(matches)) return code;
  return 'INGEST_BAD_ATTRIBUTE';
}

const describe = (code: ErrorCode, errors: readonly ErrorObject[]): string => {
  const first = errors.find((e) => classify([e]) === code) ?? errors[0];
  const [problem] = schemaProblems(first === undefined ? [] : [first]);
  const where = problem === undefined ? '' : ` at ${problem.path === '' ? '(root)' : problem.path}`;
  switch (code) {
    case 'INGEST_BAD_SPECVERSION':
      return 'specversion must be exactly "1.0"';
    case 'INGEST_MISSING_ATTRIBUTE':
      return `Required attribute missing${where}`;
    case 'INGEST_EMPTY_ATTRIBUTE':
      return `Attribute must not be empty${where}`;
    case 'INGEST_BAD_EXTENSION_NAME':
      return `Extension attribute names must be lower-case letters a-z and digits 0-9 (at most 64)${where}`;
    case 'INGEST_BAD_TIME':
      return 'time must be an RFC 3339 date-time with a time zone, e.g. 2024-05-01T12:00:00Z';
    case 'INGEST_INVALID_CLOUDEVENT':
      return 'A CloudEvent must be a JSON object';
    default:
      return `Malformed attribute${where}: ${problem?.message ?? 'invalid'}`;
  }
};

/**
 * Validates one CloudEvent (JSON form) and returns it typed, or throws a
 * `ProvenantError` whose code names the kind of problem; `details.problems` lists
 * what the schema found, and `details.id` / `details.source` echo the event's
 * identity when it had one (for per-item batch reports).
 */
export function validateCloudEventJson(value: unknown): CloudEventJson {
  if (!validate(value)) {
    const errors = validate.errors ?? [];
    const code = classify(errors);
    throw new ProvenantError(code, describe(code, errors), {
      details: { ...identity(value), problems: schemaProblems(errors) },
    });
  }
  const event = value as CloudEventJson;
  // JSON format §3.1: data that is not JSON travels as a string (or as data_base64).
  if (event.datacontenttype !== undefined && event.data !== undefined) {
    const media = parseMediaType(event.datacontenttype);
    if (media !== undefined && !isJsonMediaType(media) && typeof event.data !== 'string')
      throw new ProvenantError(
        'INGEST_BAD_ATTRIBUTE',
        `data must be a string when datacontenttype is ${media.essence} (or use data_base64)`,
        {
          details: { ...identity(value), problems: [{ path: '/data', message: 'must be string' }] },
        },
      );
  }
  return event;
}

/** The `id` and `source` of something that may be a CloudEvent, for error reports. */
export function identity(value: unknown): { id?: string; source?: string } {
  if (typeof value !== 'object' || value === null) return {};
  const { id, source } = value as Record<string, unknown>;
  return {
    ...(typeof id === 'string' ? { id: id.slice(0, 256) } : {}),
    ...(typeof source === 'string' ? { source: source.slice(0, 512) } : {}),
  };
}
