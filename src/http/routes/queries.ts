// The query API over read models (issue 13, docs/queries.md): units filtered by
// name, version, current stage, gate verdict or last activity; a unit's receipts;
// one receipt; the units of a gate or a stage; the trail of a correlation id; and
// a unit's verdict changes between two points (from the log). Lists page with an
// opaque `cursor` (`{ items, next }`); every answer names the log position it
// reflects in `Provenant-Position`, and `minPosition` waits (bounded) for it.
//
// Sub-resources of a unit take the key URL-encoded as ONE segment
// (`/v1/units/openssl%2F3.2.1%2F2.el9%2Fx86_64%2Frpm/receipts`).
import type { FastifyInstance } from 'fastify';
import {
  createReadModelQueries,
  type ReadModelQueries,
} from '../../application/queries/readModels/index.js';
import { parseLogPoint, unitDiff } from '../../application/queries/timeTravel.js';
import type { GateVerdict } from '../../domain/events.js';
import type { RouteDeps } from '../deps.js';
import { problemResponse, unitKeyParams, validationErrors } from '../schemas.js';
import {
  POSITION_HEADER,
  answer,
  available,
  errors,
  item,
  page,
  pageProperties,
  pageResponse,
  retryAfterTimeouts,
  type PageQuery,
} from '../queryPaging.js';

const idParams = (name: string, description: string) =>
  ({
    type: 'object',
    required: [name],
    properties: { [name]: { type: 'string', minLength: 1, maxLength: 256, description } },
  }) as const;

export function queryRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const queries: ReadModelQueries | undefined =
    deps.readModels === undefined
      ? undefined
      : createReadModelQueries({
          readModels: deps.readModels,
          eventStore: deps.store,
          definitions: deps.domain,
          ...deps.query,
        });
  const q = (): ReadModelQueries => available(queries);
  retryAfterTimeouts(app);
  const schemaErrorFormatter = validationErrors({ params: 'DOMAIN_INVALID_UNIT_KEY' });

  app.get<{
    Querystring: PageQuery & {
      name?: string;
      version?: string;
      type?: string;
      purl?: string;
      stage?: string;
      gate?: string;
      gateStatus?: GateVerdict;
      updatedSince?: string;
    };
  }>(
    '/v1/units',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['units'],
        summary: 'Units, filtered, in key order (read model unit_summary)',
        description:
          '`gateStatus`: units with any gate in that verdict, or with `gate`, that gate. `updatedSince`: last activity ' +
          'at or after an RFC 3339 time, or after a log position.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pageProperties,
            name: { type: 'string', minLength: 1, maxLength: 256 },
            version: { type: 'string', minLength: 1, maxLength: 256 },
            type: {
              type: 'string',
              minLength: 1,
              maxLength: 100,
              description:
                'Package type: a purl type (oci, npm, maven, rpm…), an NVRPP packageType',
            },
            purl: {
              type: 'string',
              minLength: 1,
              maxLength: 4096,
              description:
                'A package URL: with a version, the unit it names (an RPM purl finds its NVRPP unit); without one, every version',
            },
            stage: { type: 'string', minLength: 1, maxLength: 256, description: 'Current stage' },
            gate: { type: 'string', minLength: 1, maxLength: 256 },
            gateStatus: { type: 'string', enum: ['passed', 'failed', 'pending'] },
            updatedSince: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
        response: { 200: pageResponse('Unit summaries'), ...errors },
      },
    },
    async (request, reply) => {
      const { name, version, type, purl, stage, gate, gateStatus, updatedSince } = request.query;
      const since =
        updatedSince === undefined
          ? undefined
          : parseLogPoint(updatedSince, 'updatedSince', 'QUERY_BAD_SINCE');
      return answer(
        reply,
        await q().listUnits(
          {
            ...(name === undefined ? {} : { name }),
            ...(version === undefined ? {} : { version }),
            ...(type === undefined ? {} : { type }),
            ...(purl === undefined ? {} : { purl }),
            ...(stage === undefined ? {} : { stage }),
            ...(gate === undefined ? {} : { gate }),
            ...(gateStatus === undefined ? {} : { gateStatus }),
            ...(since === undefined ? {} : { updatedSince: since }),
          },
          page(request.query),
        ),
      );
    },
  );

  app.get<{
    Params: { key: string };
    Querystring: PageQuery & { action?: string; producer?: string; revoked?: boolean };
  }>(
    '/v1/units/:key/receipts',
    {
      config: { permission: 'read' },
      schemaErrorFormatter,
      schema: {
        tags: ['units'],
        summary: "A unit's receipts in log order (read model receipts_ledger)",
        params: unitKeyParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pageProperties,
            action: { type: 'string', minLength: 1, maxLength: 256 },
            producer: { type: 'string', minLength: 1, maxLength: 2048 },
            revoked: { type: 'boolean' },
          },
        },
        response: { 200: pageResponse('Receipts'), ...errors },
      },
    },
    async (request, reply) => {
      const { action, producer, revoked } = request.query;
      return answer(
        reply,
        await q().unitReceipts(
          request.params.key,
          {
            ...(action === undefined ? {} : { action }),
            ...(producer === undefined ? {} : { producer }),
            ...(revoked === undefined ? {} : { revoked }),
          },
          page(request.query),
        ),
      );
    },
  );

  app.get<{ Params: { key: string }; Querystring: { from?: string; to?: string } }>(
    '/v1/units/:key/diff',
    {
      config: { permission: 'read' },
      schemaErrorFormatter,
      schema: {
        tags: ['units'],
        summary: 'The verdict changes of a unit between two points of the log (from the log)',
        description:
          '`from` (exclusive, default the start) and `to` (inclusive, default now): both RFC 3339 times or both ' +
          'positions (`to` alone may be either). Each change names the gate or stage and its verdict before and after.',
        params: unitKeyParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', minLength: 1, maxLength: 64 },
            to: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['unit', 'from', 'to', 'changes'],
            properties: {
              unit: { type: 'string' },
              from: item,
              to: item,
              changes: { type: 'array', items: item },
            },
          },
          400: problemResponse('Unparseable point or from after to (QUERY_BAD_RANGE)'),
          404: problemResponse('The unit has no receipts (DOMAIN_UNIT_NOT_FOUND)'),
        },
      },
    },
    async (request, reply) => {
      const { from, to } = request.query;
      const head = await deps.store.headPosition();
      const result = await unitDiff(
        deps.store,
        request.params.key,
        from === undefined ? undefined : parseLogPoint(from, 'from', 'QUERY_BAD_RANGE'),
        to === undefined ? undefined : parseLogPoint(to, 'to', 'QUERY_BAD_RANGE'),
      );
      void reply.header(POSITION_HEADER, head.toString());
      return result;
    },
  );

  app.get<{ Params: { id: string }; Querystring: { minPosition?: string } }>(
    '/v1/receipts/:id',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['receipts'],
        summary:
          'One receipt (read model receipts_ledger): the ledger row, its revocation, and what it recorded (results, custom, artifacts, evidence, startedAt, finishedAt, origin)',
        params: idParams('id', 'Receipt id'),
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { minPosition: pageProperties.minPosition },
        },
        response: {
          200: item,
          404: problemResponse('No such receipt (QUERY_RECEIPT_NOT_FOUND)'),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { minPosition } = request.query;
      const { receipt, position } = await q().getReceipt(
        request.params.id,
        minPosition === undefined ? undefined : BigInt(minPosition),
      );
      void reply.header(POSITION_HEADER, position.toString());
      return receipt;
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery & { status?: GateVerdict } }>(
    '/v1/gates/:id/units',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['gates'],
        summary:
          'Units with a recorded verdict of this gate, in key order (read model gate_status)',
        params: idParams('id', 'Gate id'),
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pageProperties,
            status: { type: 'string', enum: ['passed', 'failed', 'pending'] },
          },
        },
        response: {
          200: pageResponse('Gate verdicts per unit'),
          ...errors,
          404: problemResponse('The gate is not defined (DOMAIN_GATE_NOT_FOUND)'),
        },
      },
    },
    async (request, reply) =>
      answer(
        reply,
        await q().gateUnits(request.params.id, request.query.status, page(request.query)),
      ),
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery & { passed?: boolean } }>(
    '/v1/stages/:id/units',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['stages'],
        summary:
          'Units with a recorded verdict of this stage, in key order (read model stage_status)',
        params: idParams('id', 'Stage id'),
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...pageProperties, passed: { type: 'boolean' } },
        },
        response: {
          200: pageResponse('Stage verdicts per unit'),
          ...errors,
          404: problemResponse('The stage is not defined (DOMAIN_STAGE_NOT_FOUND)'),
        },
      },
    },
    async (request, reply) =>
      answer(
        reply,
        await q().stageUnits(request.params.id, request.query.passed, page(request.query)),
      ),
  );

  app.get<{ Params: { correlationId: string }; Querystring: PageQuery }>(
    '/v1/traces/:correlationId',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['log'],
        summary: 'The receipts and pipeline events of a correlation id, in log order',
        params: idParams('correlationId', 'Correlation id'),
        querystring: { type: 'object', additionalProperties: false, properties: pageProperties },
        response: {
          200: pageResponse('Receipts (kind receipt) and pipeline events (kind pipelineEvent)'),
          ...errors,
        },
      },
    },
    async (request, reply) =>
      answer(reply, await q().trace(request.params.correlationId, page(request.query))),
  );
}
