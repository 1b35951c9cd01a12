// Shared pieces of the management API routes (issue 4 §3): the request-body JSON
// Schemas from `schemas/api/` registered once as shared schemas (so fastify's ajv
// validates with them and the OpenAPI document lists them as components), the
// response schemas of the domain's views, the problem+json schema, a validation
// error formatter that reports bad path parameters with the domain's own codes,
// and the metadata a command takes from request headers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaValidationError,
} from 'fastify';
import type { CommandOptions } from '../application/index.js';
import { ProvenantError, type ErrorCode } from '../errors.js';
import type { EventMetadata } from '../eventStore/types.js';
import { MAX_PURL_LENGTH } from '../domain/purl.js';
import { schemasDir } from '../paths.js';
import { validationMessage } from './problem.js';

/** The request-body schemas of the management API, one file each in `schemas/api/`. */
export const API_SCHEMA_NAMES = [
  'GateDefinitionBody',
  'StageDefinitionBody',
  'DisableBody',
  'RevokeReceiptBody',
] as const;

export type ApiSchemaName = (typeof API_SCHEMA_NAMES)[number];

export type JsonSchema = Record<string, unknown>;

/**
 * Reads one API schema file. The files declare draft 2020-12 but use only keywords
 * that draft-07 (fastify's default ajv) reads the same way, so `$schema` is dropped
 * and everything else, `$id` included, is kept as written.
 */
function loadApiSchema(name: ApiSchemaName): JsonSchema {
  const file = join(schemasDir, 'api', `${name}.json`);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
  const { $schema: _draft, ...schema } = parsed;
  if (typeof schema['$id'] !== 'string')
    throw new ProvenantError('INTERNAL', `API schema ${file} has no $id`);
  return schema;
}

const apiSchemas: ReadonlyMap<ApiSchemaName, JsonSchema> = new Map(
  API_SCHEMA_NAMES.map((name) => [name, loadApiSchema(name)]),
);

const apiSchema = (name: ApiSchemaName): JsonSchema => apiSchemas.get(name) as JsonSchema;

/** The `$id` of an API schema, as written in its file. */
export const apiSchemaId = (name: ApiSchemaName): string => apiSchema(name)['$id'] as string;

/** A reference to a shared API schema, for a route's `body`. */
export const apiSchemaRef = (name: ApiSchemaName): { $ref: string } => ({
  $ref: `${apiSchemaId(name)}#`,
});

/** `$id` of the shared problem+json schema. */
export const PROBLEM_SCHEMA_ID = 'https://provenant.dev/schemas/api/Problem.json';

/** RFC 9457 problem details as Provenant sends them (src/http/problem.ts). Open: extensions pass through. */
const problemSchema = {
  $id: PROBLEM_SCHEMA_ID,
  title: 'Problem',
  description:
    'RFC 9457 problem details. `code` is a stable code from the registry (README, "Error codes").',
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', description: 'urn:provenant:problem:<code>' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    instance: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
  additionalProperties: true,
} as const;

/** A response entry that points at the shared problem schema. */
export const problemResponse = (description: string): JsonSchema => ({
  description,
  $ref: `${PROBLEM_SCHEMA_ID}#`,
});

/**
 * Registers the API body schemas and the problem schema on `app`, once: buildApp
 * registers them at the root, where every route scope sees them; a route plugin
 * built on its own (in a test) may call this too.
 */
/** The `:key` path parameter of the unit routes that take the key in one segment. */
export const unitKeyParams = {
  type: 'object',
  required: ['key'],
  properties: {
    key: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_PURL_LENGTH,
      description:
        'Unit key (purl or NVRPP), URL-encoded as one segment (`openssl%2F3.2.1%2F2.el9%2Fx86_64%2Frpm`, `pkg%3Anpm%2Fleft-pad%401.3.0`)',
    },
  },
} as const;

export function registerApiSchemas(app: FastifyInstance): void {
  for (const schema of [...apiSchemas.values(), problemSchema as JsonSchema]) {
    const id = schema['$id'] as string;
    if (app.getSchema(id) === undefined) app.addSchema(schema);
  }
}

/** The request parts a route schema validates (fastify's `SchemaErrorDataVar`). */
export type RequestPart = 'body' | 'headers' | 'params' | 'querystring';

/** Which domain code reports an invalid value of each request part (default `HTTP_VALIDATION`). */
export type ValidationCodes = Partial<Record<RequestPart, ErrorCode>>;

/**
 * A route's `schemaErrorFormatter`: schema failures become `ProvenantError`s the
 * shared error handler turns into problem+json. A bad path parameter is reported
 * with the domain's code for that identifier (e.g. `DOMAIN_INVALID_UNIT_KEY`), so
 * a client sees the same code whether the schema or the domain caught it.
 */
export const validationErrors =
  (codes: ValidationCodes = {}) =>
  (errors: FastifySchemaValidationError[], dataVar: RequestPart): Error =>
    new ProvenantError(codes[dataVar] ?? 'HTTP_VALIDATION', validationMessage(errors, dataVar), {
      details: {
        in: dataVar,
        errors: errors.map((e) => ({
          path: e.instancePath,
          message: e.message,
          params: e.params,
        })),
      },
    });

/**
 * `preValidation` hook of routes whose body is optional (disable): an absent body
 * is validated, and handled, as `{}`.
 */
export function absentBodyAsEmpty(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: (error?: Error) => void,
): void {
  if (request.body === undefined || request.body === null) request.body = {};
  done();
}

// W3C Trace Context: version-traceid-parentid-flags, lower-case hex.
const TRACEPARENT_RE = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const CORRELATION_ID_RE = /^[\x21-\x7e]{1,200}$/;

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/**
 * What a command records about the request that caused it: the W3C `traceparent`
 * and an `x-correlation-id`, when present and well-formed (malformed ones are
 * ignored, as Trace Context asks), and the authenticated principal who asked.
 */
export function commandOptions(request: FastifyRequest): CommandOptions {
  const metadata: EventMetadata = {};
  if (request.principal !== undefined) metadata.principal = request.principal.id;
  const traceparent = header(request, 'traceparent');
  if (traceparent !== undefined && TRACEPARENT_RE.test(traceparent))
    metadata.traceparent = traceparent;
  const correlationId = header(request, 'x-correlation-id');
  if (correlationId !== undefined && CORRELATION_ID_RE.test(correlationId))
    metadata.correlationId = correlationId;
  return Object.keys(metadata).length === 0 ? {} : { metadata };
}

// ------------------------------------------------------------ response schemas
// fastify's serializer drops properties a response schema does not name, so
// every view is spelled out, and open JSON (custom schemas, receipt results) is
// `additionalProperties: true`.

const stringList = { type: 'array', items: { type: 'string' } } as const;
const openObject = { type: 'object', additionalProperties: true } as const;

/** `GateView` (src/application/domainService.ts). */
export const gateViewSchema = {
  type: 'object',
  required: ['gateId', 'version', 'enabled', 'requiredActions'],
  properties: {
    gateId: { type: 'string' },
    version: { type: 'integer', minimum: 1, description: 'Definition version (1, 2, 3 …)' },
    enabled: { type: 'boolean' },
    disabledReason: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    requiredActions: stringList,
    customSchema: {
      ...openObject,
      description: 'JSON Schema for the custom section of receipts',
    },
    external: { type: 'boolean' },
    owner: { type: 'string' },
  },
} as const;

/** `StageView`. */
export const stageViewSchema = {
  type: 'object',
  required: ['stageId', 'version', 'enabled', 'gates', 'prerequisites'],
  properties: {
    stageId: { type: 'string' },
    version: { type: 'integer', minimum: 1 },
    enabled: { type: 'boolean' },
    disabledReason: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    gates: { ...stringList, description: 'Gate ids, in stage order' },
    prerequisites: { ...stringList, description: 'Stages that must have passed first' },
  },
} as const;

/** `DefinitionResult<View>` under the name of the resource (`gate`, `stage`). */
export const definitionResultSchema = (key: 'gate' | 'stage', view: JsonSchema): JsonSchema => ({
  type: 'object',
  required: ['changed', key],
  properties: {
    changed: {
      type: 'boolean',
      description: 'False when nothing was recorded (identical definition, already disabled)',
    },
    [key]: view,
  },
});

/** A global position in `$all`, as every response shows it. */
export const positionSchema = {
  type: 'string',
  pattern: '^[0-9]+$',
  description: 'Global position in $all (decimal string)',
} as const;

/** `VerdictChange`: a verdict event a command recorded. */
export const verdictChangeSchema = {
  type: 'object',
  required: ['type', 'eventId', 'position', 'verdict', 'receiptIds'],
  properties: {
    type: { type: 'string', description: 'Event type, e.g. GatePassed.v1, StagePassed.v1' },
    eventId: { type: 'string' },
    position: positionSchema,
    gateId: { type: 'string' },
    gateVersion: { type: 'integer' },
    stageId: { type: 'string' },
    stageVersion: { type: 'integer' },
    verdict: {
      type: 'string',
      enum: ['pending', 'passed', 'failed', 'stage-passed', 'stage-reopened'],
    },
    receiptIds: stringList,
  },
} as const;

/** `RevokeReceiptResult`. */
export const revokeResultSchema = {
  type: 'object',
  required: ['receiptId', 'unit', 'eventId', 'position', 'verdicts'],
  properties: {
    receiptId: { type: 'string' },
    unit: { type: 'string' },
    eventId: { type: 'string', description: 'Id of the ReceiptRevoked.v1 event' },
    position: positionSchema,
    verdicts: { type: 'array', items: verdictChangeSchema },
  },
} as const;

const gateVerdict = { type: 'string', enum: ['pending', 'passed', 'failed'] } as const;

/** `ReceiptView`: the receipt as recorded, plus where it is and whether it counts. Open. */
const receiptViewSchema = {
  type: 'object',
  required: ['receiptId', 'unit', 'action', 'multipass', 'eventId', 'position', 'counted'],
  properties: {
    receiptId: { type: 'string' },
    unit: { type: 'string' },
    action: { type: 'string' },
    multipass: { type: 'boolean' },
    eventId: { type: 'string' },
    position: positionSchema,
    recordedAt: { type: 'string' },
    counted: {
      type: 'boolean',
      description: 'True for the receipt that counts for its action (latest non-revoked)',
    },
    revoked: {
      type: 'object',
      properties: { reason: { type: 'string' }, revokedBy: { type: 'string' } },
      additionalProperties: true,
    },
    results: openObject,
    custom: openObject,
  },
  additionalProperties: true,
} as const;

const gateStatusSchema = {
  type: 'object',
  required: ['gateId', 'enabled', 'recorded', 'current', 'upToDate'],
  properties: {
    gateId: { type: 'string' },
    enabled: { type: 'boolean' },
    recorded: {
      type: ['object', 'null'],
      description: 'The last verdict recorded in the unit stream; null when none was',
      properties: {
        verdict: gateVerdict,
        gateVersion: { type: 'integer' },
        receiptIds: stringList,
      },
    },
    current: {
      type: ['object', 'null'],
      description: 'The verdict under the current definition; null for a disabled gate',
      properties: {
        verdict: gateVerdict,
        gateVersion: { type: 'integer' },
        receiptIds: stringList,
        missingActions: stringList,
      },
    },
    upToDate: {
      type: 'boolean',
      description: 'False when the current verdict differs from the recorded one',
    },
  },
} as const;

const stageVerdictSchema = {
  type: ['object', 'null'],
  properties: {
    passed: { type: 'boolean' },
    stageVersion: { type: 'integer' },
    receiptIds: stringList,
  },
} as const;

const stageStatusSchema = {
  type: 'object',
  required: ['stageId', 'enabled', 'recorded', 'current', 'upToDate'],
  properties: {
    stageId: { type: 'string' },
    enabled: { type: 'boolean' },
    recorded: stageVerdictSchema,
    current: stageVerdictSchema,
    upToDate: { type: 'boolean' },
  },
} as const;

/** `UnitStatus`: a unit's receipts and verdicts, folded from its stream. */
export const unitStatusSchema = {
  type: 'object',
  required: ['unit', 'revision', 'receipts', 'gates', 'stages'],
  properties: {
    unit: { type: 'string', description: 'Canonical unit key (the NVRPP where the unit has one)' },
    purl: { type: 'string', description: "The unit's canonical package URL" },
    nvrpp: { type: 'string', description: 'Its NVRPP short form, where it has one' },
    revision: { type: 'integer', description: 'Revision of the unit stream that was folded' },
    receipts: { type: 'array', items: receiptViewSchema },
    gates: { type: 'array', items: gateStatusSchema },
    stages: { type: 'array', items: stageStatusSchema },
  },
} as const;

/** `EvaluateUnitResult`. */
export const evaluateResultSchema = {
  type: 'object',
  required: ['unit', 'verdicts', 'status'],
  properties: {
    unit: { type: 'string' },
    verdicts: {
      type: 'array',
      items: verdictChangeSchema,
      description: 'Verdict changes recorded by this evaluation (empty when none changed)',
    },
    status: unitStatusSchema,
  },
} as const;
