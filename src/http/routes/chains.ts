// CDEvents chains over HTTP (issue 18; docs/chains.md): which chains are bound to
// a unit, which are still waiting (`?bound=false`), and which named two units or
// were used by two sources (`?conflicts=true`). Read from the chain streams.
import type { FastifyInstance } from 'fastify';
import { getChain, listChains } from '../../application/chains/index.js';
import { ProvenantError } from '../../errors.js';
import type { RouteDeps } from '../deps.js';
import { problemResponse } from '../schemas.js';

const eventRef = {
  type: 'object',
  properties: { source: { type: 'string' }, id: { type: 'string' }, type: { type: 'string' } },
} as const;

const chainSchema = {
  type: 'object',
  required: ['chainId', 'bound', 'unit', 'owner', 'pending', 'conflicts'],
  properties: {
    chainId: { type: 'string' },
    bound: { type: 'boolean', description: 'True once an event of the chain named a unit' },
    unit: { type: ['string', 'null'], description: 'The unit the chain is bound to' },
    owner: { type: ['string', 'null'], description: 'The source of the chain’s first event' },
    boundBy: { anyOf: [eventRef, { type: 'null' }] },
    pending: {
      type: 'array',
      items: eventRef,
      description: 'Events stored before the chain was bound; their receipts follow the binding',
    },
    conflicts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          kind: { type: 'string', enum: ['unit', 'source'] },
          boundUnit: { type: 'string' },
          otherUnit: { type: 'string' },
          ownerSource: { type: 'string' },
          event: eventRef,
        },
      },
    },
    lastRecordedAt: { type: ['string', 'null'] },
  },
} as const;

export function chainRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Querystring: { bound?: boolean; conflicts?: boolean; limit?: number } }>(
    '/v1/chains',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['chains'],
        summary: 'CDEvents chains: bound, waiting for a unit, or in conflict',
        description:
          '`bound=false`: chains whose events named no unit yet (their events wait, stored). `conflicts=true`: chains ' +
          'that named a second unit or were used by a second source (recorded, never merged). See docs/chains.md.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            bound: { type: 'boolean' },
            conflicts: { type: 'boolean' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: chainSchema } },
          },
          400: problemResponse('Bad parameter (HTTP_VALIDATION)'),
        },
      },
    },
    async (request) => {
      const { bound, conflicts, limit } = request.query;
      const items = await listChains(
        deps.store,
        {
          ...(bound === undefined ? {} : { bound }),
          ...(conflicts === undefined ? {} : { conflicts }),
        },
        limit ?? 100,
      );
      return { items };
    },
  );

  app.get<{ Params: { chainId: string } }>(
    '/v1/chains/:chainId',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['chains'],
        summary: 'One CDEvents chain (its id URL-encoded as one segment)',
        params: {
          type: 'object',
          required: ['chainId'],
          properties: { chainId: { type: 'string', minLength: 1, maxLength: 256 } },
        },
        response: {
          200: chainSchema,
          404: problemResponse('Nothing of this chain is stored (HTTP_NOT_FOUND)'),
        },
      },
    },
    async (request) => {
      const chain = await getChain(deps.store, request.params.chainId);
      if (chain === undefined)
        throw new ProvenantError('HTTP_NOT_FOUND', `No chain '${request.params.chainId}'`);
      return chain;
    },
  );
}
