// `GET /v1/attestations?digest=<algorithm>:<hex>`: the attestations whose
// subjects carry an artifact's digest (read model attestation_subjects), newest
// first, for release tooling that holds the artifact and not the unit; filters
// by kind, predicate type, stage and verdict. Paged like every query
// (queryPaging.ts), with the position it reflects in `Provenant-Position`.
import type { FastifyInstance } from 'fastify';
import {
  createAttestationQueries,
  type AttestationFilter,
  type AttestationQueries,
} from '../../application/queries/readModels/index.js';
import type { AttestationKind } from '../../domain/events.js';
import type { RouteDeps } from '../deps.js';
import { problemResponse, validationErrors } from '../schemas.js';
import {
  answer,
  available,
  errors,
  page,
  pageProperties,
  pageResponse,
  retryAfterTimeouts,
  type PageQuery,
} from '../queryPaging.js';

interface SearchQuery extends PageQuery {
  digest: string;
  kind?: AttestationKind;
  predicateType?: string;
  stage?: string;
  passed?: boolean;
}

export function attestationSearchRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const queries: AttestationQueries | undefined =
    deps.readModels === undefined
      ? undefined
      : createAttestationQueries({
          readModels: deps.readModels,
          eventStore: deps.store,
          ...deps.query,
        });
  retryAfterTimeouts(app);

  app.get<{ Querystring: SearchQuery }>(
    '/v1/attestations',
    {
      config: { permission: 'read' },
      schemaErrorFormatter: validationErrors(),
      schema: {
        tags: ['attestations'],
        summary:
          "Attestations naming an artifact's digest among their subjects, newest first (read model attestation_subjects)",
        querystring: {
          type: 'object',
          required: ['digest'],
          additionalProperties: false,
          properties: {
            ...pageProperties,
            digest: {
              type: 'string',
              minLength: 1,
              maxLength: 300,
              description: 'A subject digest, `<algorithm>:<hex value>` (`sha256:9f86d081…`)',
            },
            kind: { type: 'string', enum: ['provenance', 'vsa', 'test-result'] },
            predicateType: { type: 'string', minLength: 1, maxLength: 300 },
            stage: { type: 'string', minLength: 1, maxLength: 100, description: 'VSAs of a stage' },
            passed: { type: 'boolean', description: 'VSAs with this verdict' },
          },
        },
        response: {
          200: pageResponse(
            'Attestations: id, unit, kind, predicate type, the subject, the stage (VSA), signer, log position, and the bundle URL',
          ),
          ...errors,
          400: problemResponse(
            'Malformed digest (QUERY_BAD_DIGEST), bad parameter, malformed cursor, minPosition beyond the head',
          ),
        },
      },
    },
    async (request, reply) => {
      const { digest, kind, predicateType, stage, passed } = request.query;
      const filter: AttestationFilter = {
        digest,
        ...(kind === undefined ? {} : { kind }),
        ...(predicateType === undefined ? {} : { predicateType }),
        ...(stage === undefined ? {} : { stageId: stage }),
        ...(passed === undefined ? {} : { passed }),
      };
      return answer(
        reply,
        await available(queries).attestationsByDigest(filter, page(request.query)),
      );
    },
  );
}
