// Versioned definitions over HTTP (issue 4 §3): gates and stages are both
// defined or updated with PUT (a new version each time the definition changes),
// listed, read and disabled, never deleted (DESIGN.md §1). One builder makes the
// four routes for either kind; gates.ts and stages.ts only say what differs.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CommandOptions, DefinitionResult, DomainService } from '../application/index.js';
import type { ErrorCode } from '../errors.js';
import type { RouteDeps } from './deps.js';
import {
  absentBodyAsEmpty,
  apiSchemaRef,
  commandOptions,
  definitionResultSchema,
  problemResponse,
  registerApiSchemas,
  validationErrors,
  type ApiSchemaName,
  type JsonSchema,
} from './schemas.js';

/** What differs between the gate and stage resources. */
export interface DefinitionResource<Body, View> {
  kind: 'gate' | 'stage';
  /** OpenAPI tag. */
  tag: string;
  viewSchema: JsonSchema;
  bodySchema: ApiSchemaName;
  /** Code for a malformed id in the path. */
  invalidIdCode: ErrorCode;
  notFoundCode: ErrorCode;
  putDescription: string;
  putBadRequest: string;
  disableDescription: string;
  define(
    domain: DomainService,
    id: string,
    body: Body,
    options: CommandOptions,
  ): Promise<DefinitionResult<View>>;
  list(domain: DomainService): Promise<View[]>;
  get(domain: DomainService, id: string): Promise<View>;
  disable(
    domain: DomainService,
    id: string,
    reason: string | undefined,
    options: CommandOptions,
  ): Promise<DefinitionResult<View>>;
}

/** Path parameter of every route of a kind: an id as the domain accepts it (src/domain/names.ts). */
export const definitionIdParams = (kind: 'gate' | 'stage') =>
  ({
    type: 'object',
    required: ['id'],
    properties: {
      id: {
        type: 'string',
        minLength: 1,
        maxLength: 100,
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
        description: `${kind === 'gate' ? 'Gate' : 'Stage'} id: a letter or digit, then letters, digits, . _ -`,
      },
    },
  }) as const;

interface IdParams {
  id: string;
}

export function definitionRoutes<Body, View extends { version: number }>(
  app: FastifyInstance,
  deps: RouteDeps,
  resource: DefinitionResource<Body, View>,
): void {
  const { kind, tag, viewSchema } = resource;
  const plural = `${kind}s`;
  const base = `/v1/${plural}`;
  const params = definitionIdParams(kind);
  const result = definitionResultSchema(kind, viewSchema);
  const notFound = `No such ${kind} (${resource.notFoundCode})`;
  const reply = (outcome: DefinitionResult<View>) => ({
    changed: outcome.changed,
    [kind]: outcome.view,
  });
  const options = (request: FastifyRequest): CommandOptions => commandOptions(request);

  registerApiSchemas(app);
  const schemaErrorFormatter = validationErrors({ params: resource.invalidIdCode });

  app.put<{ Params: IdParams; Body: Body }>(
    `${base}/:id`,
    {
      config: { permission: 'define' },
      schemaErrorFormatter,
      schema: {
        tags: [tag],
        summary: `Define a ${kind}, or a new version of it`,
        description: resource.putDescription,
        params,
        body: apiSchemaRef(resource.bodySchema),
        response: {
          200: { description: 'A new version was recorded, or nothing changed', ...result },
          201: { description: `The ${kind} was defined for the first time`, ...result },
          400: problemResponse(resource.putBadRequest),
        },
      },
    },
    async (request, response) => {
      const { id } = request.params;
      const outcome = await resource.define(
        deps.domain,
        id,
        request.body as Body,
        options(request),
      );
      if (outcome.changed && outcome.view.version === 1)
        void response.code(201).header('location', `${base}/${encodeURIComponent(id)}`);
      return reply(outcome);
    },
  );

  app.get(
    base,
    {
      config: { permission: 'read' },
      schema: {
        tags: [tag],
        summary: `List every ${kind}, enabled or not, by id`,
        response: {
          200: {
            type: 'object',
            required: [plural],
            properties: { [plural]: { type: 'array', items: viewSchema } },
          },
        },
      },
    },
    async () => ({ [plural]: await resource.list(deps.domain) }),
  );

  app.get<{ Params: IdParams }>(
    `${base}/:id`,
    {
      config: { permission: 'read' },
      schemaErrorFormatter,
      schema: {
        tags: [tag],
        summary: `Read the current version of a ${kind}`,
        params,
        response: {
          200: viewSchema,
          400: problemResponse(`Invalid ${kind} id`),
          404: problemResponse(notFound),
        },
      },
    },
    async (request) => resource.get(deps.domain, request.params.id),
  );

  app.post<{ Params: IdParams; Body: { reason?: string } }>(
    `${base}/:id/disable`,
    {
      config: { permission: 'define' },
      schemaErrorFormatter,
      preValidation: absentBodyAsEmpty,
      schema: {
        tags: [tag],
        summary: `Disable a ${kind} from now on`,
        description: resource.disableDescription,
        params,
        body: apiSchemaRef('DisableBody'),
        response: {
          200: result,
          400: problemResponse(`Invalid ${kind} id or body`),
          404: problemResponse(notFound),
        },
      },
    },
    async (request) =>
      reply(
        await resource.disable(
          deps.domain,
          request.params.id,
          request.body.reason,
          options(request),
        ),
      ),
  );
}
