// Units over HTTP (issue 4 §3): a unit's status — from the read models when they
// have applied the log up to its head, else folded from its stream (DESIGN.md §5;
// both answer alike, application/queries/readModels/unitStatus.ts) — and explicit
// re-evaluation under the current definitions (docs/evaluation.md, "Definition
// changes apply from then on").
//
// Unit keys are purls or NVRPPs and contain `/` (`openssl/3.2.1/2.el9/x86_64/rpm`). The
// routes are wildcards, so a key is accepted both URL-encoded in one segment
// (`/v1/units/openssl%2F3.2.1%2F2.el9%2Fx86_64%2Frpm`) and as plain segments
// (`/v1/units/openssl/3.2.1/2.el9/x86_64/rpm`): the key is the rest of the path,
// percent-decoded; for POST it is the path up to a final `/evaluate`. A key
// always has exactly five parts, so `…/rpm/evaluate` can not be mistaken for a key.
// A malformed key is a 400 with the domain's DOMAIN_INVALID_UNIT_KEY.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizeUnitKey } from '../../domain/index.js';
import { MAX_PURL_LENGTH } from '../../domain/purl.js';
import { unitStatusFromReadModels } from '../../application/queries/readModels/unitStatus.js';
import { parseLogPoint, unitStatusAsOf } from '../../application/queries/timeTravel.js';
import { ProvenantError } from '../../errors.js';
import type { RouteDeps } from '../deps.js';
import {
  commandOptions,
  evaluateResultSchema,
  problemResponse,
  unitStatusSchema,
  validationErrors,
} from '../schemas.js';

/** Sub-resources of a unit, served elsewhere with the key URL-encoded as one segment. */
const SUB_RESOURCES = /\/(receipts|diff)$/;

const unitStatusAsOfSchema = {
  ...unitStatusSchema,
  properties: {
    ...unitStatusSchema.properties,
    asOf: {
      type: 'object',
      description: 'With ?asOf: the point the status was computed at (a time or a position)',
      properties: { time: { type: 'string' }, position: { type: 'string' } },
    },
  },
} as const;

/**
 * Has `reply` write a unit's status with `JSON.stringify` (and say it is JSON,
 * which fastify leaves to a custom serializer). The status lists every receipt
 * with its recorded data (an open object: nothing for a schema to strip), so a
 * long-lived unit's answer is megabytes of strings, where fast-json-stringify's
 * string escaping in JavaScript is ~5× slower than the native one: for 5,000
 * receipts (5.2 MB), 66–76 against 13 ms of CPU (docs/projections.md, "asOf
 * profiled"). The rest of the status is built field by field from the schema's
 * properties (application/queries/views.ts), so both write the same JSON; the
 * schema still documents it (test/http/queriesTimeTravel.int.test.ts checks that
 * the answer holds only what it declares).
 */
const writeStatusAsJson = (reply: FastifyReply): FastifyReply =>
  reply.type('application/json; charset=utf-8').serializer((status) => JSON.stringify(status));

const EVALUATE_SUFFIX = '/evaluate';

/**
 * A purl's qualifiers sent unencoded (`/v1/units/pkg:rpm/openssl@3.2.1-2.el9?arch=x86_64`)
 * arrive as the query string: the key left would name another unit, the one
 * without them. Refused before validation, saying how to send the key; any
 * other parameter the route does not know is refused by its schema.
 */
function qualifiersAsQuery(
  request: FastifyRequest<{ Params: { '*': string } }>,
): ProvenantError | undefined {
  const key = request.params['*'];
  if (!key.startsWith('pkg:') || !request.url.includes('?')) return undefined;
  // The query as sent, less the route's own parameter: the purl's qualifiers.
  const params = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1));
  const asOf = params.get('asOf');
  params.delete('asOf');
  const qualifiers = params.toString();
  if (qualifiers === '') return undefined;
  const names = [...new Set(params.keys())].map((n) => `'${n}'`).join(', ');
  const path = `/v1/units/${encodeURIComponent(`${key}?${qualifiers}`)}`;
  return new ProvenantError(
    'DOMAIN_INVALID_UNIT_KEY',
    `The query string holds ${names}, which this route does not take: ` +
      `a purl's qualifiers belong to its key. Send the key URL-encoded as one segment: ` +
      (asOf === null ? path : `${path}?asOf=${encodeURIComponent(asOf)}`),
    { details: { key, qualifiers } },
  );
}

const KEY_DESCRIPTION =
  'Unit key: a package URL (`pkg:oci/myapp@sha256:…`, docs/units.md) or its NVRPP short form ' +
  '`name/version/release/platform/packageType`. Send it URL-encoded in one segment ' +
  '(`openssl%2F3.2.1%2F2.el9%2Fx86_64%2Frpm`, `pkg%3Anpm%2Fleft-pad%401.3.0`) or as plain path segments ' +
  '(`openssl/3.2.1/2.el9/x86_64/rpm`); `pkg:rpm/openssl@3.2.1-2.el9?arch=x86_64` and its NVRPP name the same unit.';

// The wildcard's value: bounded, and only characters a key part may hold (plus
// the separators); the domain checks the structure and names the bad part.
const wildcardParams = (maxLength: number) =>
  ({
    type: 'object',
    required: ['*'],
    properties: {
      '*': {
        type: 'string',
        minLength: 1,
        maxLength,
        // Printable ASCII: a purl's own text is percent-encoded (the domain checks the rest).
        pattern: '^[\\x21-\\x7e]+$',
        description: KEY_DESCRIPTION,
      },
    },
  }) as const;

// How the OpenAPI document shows the wildcard routes: as `{key}`, the form clients
// generate from it (which percent-encodes the slashes).
const documentedKeyParams = {
  type: 'object',
  required: ['key'],
  properties: { key: { type: 'string', description: KEY_DESCRIPTION } },
} as const;

const asKeyRoute =
  (url: string) =>
  ({ schema }: { schema: object }): { url: string; schema: object } => ({
    url,
    schema: { ...schema, params: documentedKeyParams },
  });

export function unitRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const schemaErrorFormatter = validationErrors({ params: 'DOMAIN_INVALID_UNIT_KEY' });

  app.get<{ Params: { '*': string }; Querystring: { asOf?: string } }>(
    '/v1/units/*',
    {
      schemaErrorFormatter,
      preValidation: (request, _reply, done) => done(qualifiersAsQuery(request)),
      config: { permission: 'read', swaggerTransform: asKeyRoute('/v1/units/{key}') },
      schema: {
        tags: ['units'],
        summary: "A unit's receipts and gate and stage verdicts",
        description:
          'From the read models when they have applied the log up to its head, else folded from the unit stream ' +
          '(the same answer either way); with `asOf`, folded from the log up to that time or position under the ' +
          'definitions of then (time travel). For each gate and stage: the `recorded` verdict ' +
          '(last verdict event in the log), the `current` one under the current definitions, and `upToDate: false` ' +
          'where they differ (POST /v1/units/{key}/evaluate records the change). ' +
          KEY_DESCRIPTION,
        params: wildcardParams(MAX_PURL_LENGTH + '/receipts'.length),
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            asOf: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              description:
                'Time travel: the status as of an RFC 3339 time or a log position, folded from the log up to ' +
                'that point under the definitions of then',
            },
          },
        },
        response: {
          200: unitStatusAsOfSchema,
          400: problemResponse(
            'Malformed unit key (DOMAIN_INVALID_UNIT_KEY), unparseable asOf (QUERY_BAD_AS_OF), asOf in the future (QUERY_AS_OF_IN_FUTURE)',
          ),
          404: problemResponse('The unit has no receipts (DOMAIN_UNIT_NOT_FOUND)'),
        },
      },
    },
    async (request, reply) => {
      const path = request.params['*'];
      if (SUB_RESOURCES.test(path) && path.split('/').length === 6)
        throw new ProvenantError(
          'HTTP_NOT_FOUND',
          `No route for GET ${request.url}: sub-resources of a unit take its key URL-encoded as one segment`,
        );
      const { asOf } = request.query;
      // Folded from the log: it reflects every event up to the head read first.
      const head = await deps.store.headPosition();
      if (asOf !== undefined) {
        const point = parseLogPoint(asOf, 'asOf', 'QUERY_BAD_AS_OF');
        const status = await unitStatusAsOf(deps.store, path, point);
        void reply.header(
          'provenant-position',
          'position' in point ? point.position.toString() : head.toString(),
        );
        void writeStatusAsJson(reply);
        return status;
      }
      void reply.header('provenant-position', head.toString());
      // From the read models when they have applied the log up to that head; else folded.
      const fromReadModels =
        deps.readModels === undefined
          ? undefined
          : await unitStatusFromReadModels(deps.readModels, path, head, (upTo) =>
              deps.domain.currentDefinitions({ upTo }),
            );
      const status = fromReadModels ?? (await deps.domain.getUnitStatus(normalizeUnitKey(path)));
      void writeStatusAsJson(reply);
      return status;
    },
  );

  app.post<{ Params: { '*': string } }>(
    '/v1/units/*',
    {
      schemaErrorFormatter,
      config: { permission: 'define', swaggerTransform: asKeyRoute('/v1/units/{key}/evaluate') },
      schema: {
        tags: ['units'],
        summary: 'Re-evaluate a unit under the current definitions',
        description:
          'Evaluates the unit under the current gate and stage definitions and records every change of verdict ' +
          '(trigger `evaluation`) in one append; returns the changes and the new status. Nothing is recorded when no ' +
          'verdict changed. ' +
          KEY_DESCRIPTION,
        params: wildcardParams(MAX_PURL_LENGTH + EVALUATE_SUFFIX.length),
        response: {
          200: evaluateResultSchema,
          400: problemResponse('Malformed unit key (DOMAIN_INVALID_UNIT_KEY)'),
          404: problemResponse(
            'The unit has no receipts (DOMAIN_UNIT_NOT_FOUND), or no such route',
          ),
        },
      },
    },
    async (request) => {
      const path = request.params['*'];
      if (!path.endsWith(EVALUATE_SUFFIX))
        throw new ProvenantError('HTTP_NOT_FOUND', `No route for POST ${request.url}`);
      const key = normalizeUnitKey(path.slice(0, -EVALUATE_SUFFIX.length));
      return deps.domain.evaluateUnit(key, commandOptions(request));
    },
  );
}
