// Gates over HTTP (issue 4 §3): define or update (PUT, a new version each time the
// definition changes), list, read, disable. Gates are versioned and never deleted
// (DESIGN.md §1); the domain service decides, this file only maps HTTP to it.
import type { FastifyInstance } from 'fastify';
import type { GateDefinitionBody } from '../../domain/index.js';
import type { RouteDeps } from '../app.js';
import {
  absentBodyAsEmpty,
  apiSchemaRef,
  commandOptions,
  definitionResultSchema,
  gateViewSchema,
  problemResponse,
  registerApiSchemas,
  validationErrors,
} from '../schemas.js';

interface GateParams {
  id: string;
}

/** Path parameter of every gate route: a gate id as the domain accepts it (src/domain/names.ts). */
export const gateIdParams = {
  type: 'object',
  required: ['id'],
  properties: {
    id: {
      type: 'string',
      minLength: 1,
      maxLength: 100,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
      description: 'Gate id: a letter or digit, then letters, digits, . _ -',
    },
  },
} as const;

const gateResult = definitionResultSchema('gate', gateViewSchema);

export function gateRoutes(app: FastifyInstance, deps: RouteDeps): void {
  registerApiSchemas(app);
  const schemaErrorFormatter = validationErrors({ params: 'DOMAIN_INVALID_GATE' });

  app.put<{ Params: GateParams; Body: GateDefinitionBody }>(
    '/v1/gates/:id',
    {
      schemaErrorFormatter,
      schema: {
        tags: ['gates'],
        summary: 'Define a gate, or a new version of it',
        description:
          'Creates the gate (201) or records a new version when the definition differs from the current one (200). ' +
          'An identical PUT records nothing and answers 200 with `changed: false`. PUT on a disabled gate enables it as a new version. ' +
          'A `customSchema` is compiled in ajv strict mode at definition time; remote `$ref` and `$data` are rejected (DOMAIN_INVALID_GATE_SCHEMA). ' +
          'New definitions apply from then on; POST /v1/units/{key}/evaluate re-evaluates a unit under them.',
        params: gateIdParams,
        body: apiSchemaRef('GateDefinitionBody'),
        response: {
          200: { description: 'A new version was recorded, or nothing changed', ...gateResult },
          201: { description: 'The gate was defined for the first time', ...gateResult },
          400: problemResponse('Invalid gate id, definition or custom schema'),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const result = await deps.domain.defineGate(id, request.body, commandOptions(request));
      if (result.changed && result.view.version === 1)
        void reply.code(201).header('location', `/v1/gates/${encodeURIComponent(id)}`);
      return { changed: result.changed, gate: result.view };
    },
  );

  app.get(
    '/v1/gates',
    {
      schema: {
        tags: ['gates'],
        summary: 'List every gate, enabled or not, by id',
        response: {
          200: {
            type: 'object',
            required: ['gates'],
            properties: { gates: { type: 'array', items: gateViewSchema } },
          },
        },
      },
    },
    async () => ({ gates: await deps.domain.listGates() }),
  );

  app.get<{ Params: GateParams }>(
    '/v1/gates/:id',
    {
      schemaErrorFormatter,
      schema: {
        tags: ['gates'],
        summary: 'Read the current version of a gate',
        params: gateIdParams,
        response: {
          200: gateViewSchema,
          400: problemResponse('Invalid gate id'),
          404: problemResponse('No such gate (DOMAIN_GATE_NOT_FOUND)'),
        },
      },
    },
    async (request) => deps.domain.getGate(request.params.id),
  );

  app.post<{ Params: GateParams; Body: { reason?: string } }>(
    '/v1/gates/:id/disable',
    {
      schemaErrorFormatter,
      preValidation: absentBodyAsEmpty,
      schema: {
        tags: ['gates'],
        summary: 'Disable a gate from now on',
        description:
          'A disabled gate is no longer evaluated; it is never deleted, and PUT enables it again as a new version. ' +
          'Disabling a disabled gate records nothing (`changed: false`). The body, with an optional `reason`, may be omitted.',
        params: gateIdParams,
        body: apiSchemaRef('DisableBody'),
        response: {
          200: gateResult,
          400: problemResponse('Invalid gate id or body'),
          404: problemResponse('No such gate (DOMAIN_GATE_NOT_FOUND)'),
        },
      },
    },
    async (request) => {
      const result = await deps.domain.disableGate(
        request.params.id,
        request.body.reason,
        commandOptions(request),
      );
      return { changed: result.changed, gate: result.view };
    },
  );
}
