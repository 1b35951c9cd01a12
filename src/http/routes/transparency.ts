// The Merkle log of `$all` (docs/transparency.md): the latest signed checkpoint
// (a C2SP signed note, text/plain), inclusion and consistency proofs, and the
// note verifier key that checks the checkpoints.
import type { FastifyInstance } from 'fastify';
import { ProvenantError } from '../../errors.js';
import type { TransparencyService } from '../../transparency/service.js';
import type { RouteDeps } from '../deps.js';

const sizeParam = { type: 'string', pattern: '^[0-9]{1,16}$' } as const;
const hashList = { type: 'array', items: { type: 'string' } } as const;

export function transparencyRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const service = (): TransparencyService => {
    if (deps.transparency === undefined)
      throw new ProvenantError('TLOG_NOT_AVAILABLE', 'This server does not hold the Merkle log');
    return deps.transparency;
  };

  app.get(
    '/v1/log/checkpoint',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['log'],
        summary: 'The latest signed checkpoint of the Merkle log (C2SP signed note)',
        produces: ['text/plain'],
      },
    },
    async (_request, reply) => {
      const checkpoint = await service().latestCheckpoint();
      return reply.type('text/plain; charset=utf-8').send(checkpoint.note);
    },
  );

  app.get(
    '/v1/log/key',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['log'],
        summary:
          'The note verifier key that signs new checkpoints, and the key rotations (LogKeyRotated.v1) that lead to it',
        response: {
          200: {
            type: 'object',
            required: ['origin', 'verifierKey', 'rotations'],
            properties: {
              origin: { type: 'string' },
              verifierKey: { type: 'string' },
              rotations: {
                type: 'array',
                items: {
                  type: 'object',
                  required: [
                    'origin',
                    'treeSize',
                    'previousVerifierKey',
                    'verifierKey',
                    'statement',
                  ],
                  properties: {
                    origin: { type: 'string' },
                    treeSize: { type: 'integer' },
                    previousVerifierKey: { type: 'string' },
                    verifierKey: { type: 'string' },
                    statement: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => ({
      origin: service().origin,
      verifierKey: service().verifierKey,
      rotations: await service().keyRotations(),
    }),
  );

  app.get<{ Querystring: { position?: string; leafIndex?: string; treeSize?: string } }>(
    '/v1/log/proof/inclusion',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['log'],
        summary:
          "Inclusion proof of the event at a position (or of a leaf index), in the tree of treeSize (default: the latest checkpoint's)",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            position: { type: 'string', pattern: '^[0-9]{1,20}$' },
            leafIndex: sizeParam,
            treeSize: sizeParam,
          },
        },
        response: {
          200: {
            type: 'object',
            required: [
              'position',
              'eventId',
              'leafIndex',
              'treeSize',
              'leafHash',
              'rootHash',
              'proof',
            ],
            properties: {
              position: { type: 'string' },
              eventId: { type: 'string' },
              leafIndex: { type: 'integer' },
              treeSize: { type: 'integer' },
              leafHash: { type: 'string' },
              rootHash: { type: 'string' },
              proof: hashList,
              checkpoint: { type: 'string' },
            },
          },
        },
      },
    },
    async (request) => {
      const { position, leafIndex, treeSize } = request.query;
      const size = treeSize === undefined ? undefined : Number(treeSize);
      if ((position === undefined) === (leafIndex === undefined))
        throw new ProvenantError('HTTP_BAD_REQUEST', 'Give either position or leafIndex, not both');
      return position === undefined
        ? service().inclusionByLeafIndex(Number(leafIndex), size)
        : service().inclusionByPosition(BigInt(position), size);
    },
  );

  app.get<{ Querystring: { from: string; to?: string } }>(
    '/v1/log/proof/consistency',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['log'],
        summary:
          "Consistency proof between two tree sizes (to defaults to the latest checkpoint's)",
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['from'],
          properties: { from: sizeParam, to: sizeParam },
        },
        response: {
          200: {
            type: 'object',
            required: ['from', 'to', 'fromRoot', 'toRoot', 'proof'],
            properties: {
              from: { type: 'integer' },
              to: { type: 'integer' },
              fromRoot: { type: 'string' },
              toRoot: { type: 'string' },
              proof: hashList,
            },
          },
        },
      },
    },
    async (request) =>
      service().consistency(
        Number(request.query.from),
        request.query.to === undefined ? undefined : Number(request.query.to),
      ),
  );
}
