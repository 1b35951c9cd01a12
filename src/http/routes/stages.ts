// Stages over HTTP (issue 4 §3): an ordered set of gates with optional
// prerequisite stages (DESIGN.md §1). Define or update (PUT, versioned), list,
// read, disable; the domain service decides, this file maps HTTP to it.
import type { FastifyInstance } from 'fastify';
import type { StageDefinitionBody } from '../../domain/index.js';
import type { RouteDeps } from '../app.js';
import {
  absentBodyAsEmpty,
  apiSchemaRef,
  commandOptions,
  definitionResultSchema,
  problemResponse,
  registerApiSchemas,
  stageViewSchema,
  validationErrors,
} from '../schemas.js';

interface StageParams {
  id: string;
}

/** Path parameter of every stage route: a stage id as the domain accepts it (src/domain/names.ts). */
export const stageIdParams = {
  type: 'object',
  required: ['id'],
  properties: {
    id: {
      type: 'string',
      minLength: 1,
      maxLength: 100,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
      description: 'Stage id: a letter or digit, then letters, digits, . _ -',
    },
  },
} as const;

const stageResult = definitionResultSchema('stage', stageViewSchema);

export function stageRoutes(app: FastifyInstance, deps: RouteDeps): void {
  registerApiSchemas(app);
  const schemaErrorFormatter = validationErrors({ params: 'DOMAIN_INVALID_STAGE' });

  app.put<{ Params: StageParams; Body: StageDefinitionBody }>(
    '/v1/stages/:id',
    {
      schemaErrorFormatter,
      schema: {
        tags: ['stages'],
        summary: 'Define a stage, or a new version of it',
        description:
          'Creates the stage (201) or records a new version when the definition differs (200); an identical PUT records nothing ' +
          '(200, `changed: false`). Every gate and prerequisite stage must already be defined (DOMAIN_UNKNOWN_GATE, ' +
          'DOMAIN_UNKNOWN_STAGE) and prerequisites may not form a cycle (DOMAIN_STAGE_CYCLE). ' +
          'When all of a stage’s gates pass for a unit, the store records StagePassed for it.',
        params: stageIdParams,
        body: apiSchemaRef('StageDefinitionBody'),
        response: {
          200: { description: 'A new version was recorded, or nothing changed', ...stageResult },
          201: { description: 'The stage was defined for the first time', ...stageResult },
          400: problemResponse('Invalid stage id or definition, unknown gate or stage, or a cycle'),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const result = await deps.domain.defineStage(id, request.body, commandOptions(request));
      if (result.changed && result.view.version === 1)
        void reply.code(201).header('location', `/v1/stages/${encodeURIComponent(id)}`);
      return { changed: result.changed, stage: result.view };
    },
  );

  app.get(
    '/v1/stages',
    {
      schema: {
        tags: ['stages'],
        summary: 'List every stage, enabled or not, by id',
        response: {
          200: {
            type: 'object',
            required: ['stages'],
            properties: { stages: { type: 'array', items: stageViewSchema } },
          },
        },
      },
    },
    async () => ({ stages: await deps.domain.listStages() }),
  );

  app.get<{ Params: StageParams }>(
    '/v1/stages/:id',
    {
      schemaErrorFormatter,
      schema: {
        tags: ['stages'],
        summary: 'Read the current version of a stage',
        params: stageIdParams,
        response: {
          200: stageViewSchema,
          400: problemResponse('Invalid stage id'),
          404: problemResponse('No such stage (DOMAIN_STAGE_NOT_FOUND)'),
        },
      },
    },
    async (request) => deps.domain.getStage(request.params.id),
  );

  app.post<{ Params: StageParams; Body: { reason?: string } }>(
    '/v1/stages/:id/disable',
    {
      schemaErrorFormatter,
      preValidation: absentBodyAsEmpty,
      schema: {
        tags: ['stages'],
        summary: 'Disable a stage from now on',
        description:
          'A disabled stage is no longer evaluated and does not count as a prerequisite; it is never deleted, and PUT ' +
          'enables it again as a new version. Disabling a disabled stage records nothing (`changed: false`). ' +
          'The body, with an optional `reason`, may be omitted.',
        params: stageIdParams,
        body: apiSchemaRef('DisableBody'),
        response: {
          200: stageResult,
          400: problemResponse('Invalid stage id or body'),
          404: problemResponse('No such stage (DOMAIN_STAGE_NOT_FOUND)'),
        },
      },
    },
    async (request) => {
      const result = await deps.domain.disableStage(
        request.params.id,
        request.body.reason,
        commandOptions(request),
      );
      return { changed: result.changed, stage: result.view };
    },
  );
}
