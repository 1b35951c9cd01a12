// What the query routes share (docs/queries.md): paging with an opaque cursor
// (`{ items, next }`), the `Provenant-Position` header naming the log position
// an answer reflects, `minPosition` (a bounded wait), and a Retry-After on a
// wait that timed out.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RETRY_AFTER_SECONDS } from '../application/queries/readModels/index.js';
import { ProvenantError, isProvenantError } from '../errors.js';
import { handleError } from './problem.js';
import { problemResponse } from './schemas.js';

export const POSITION_HEADER = 'provenant-position';
export const MAX_LIMIT = 1000;

export interface PageQuery {
  limit?: number;
  cursor?: string;
  minPosition?: string;
}

export const pageProperties = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 100 },
  cursor: {
    type: 'string',
    minLength: 1,
    maxLength: 4096,
    description: 'The `next` of the previous page (opaque)',
  },
  minPosition: {
    type: 'string',
    pattern: '^[0-9]{1,19}$',
    description:
      'Wait (bounded) until the read models this query reads have applied the log up to this position',
  },
} as const;

export const item = { type: 'object', additionalProperties: true } as const;

export const pageResponse = (description: string) =>
  ({
    description,
    type: 'object',
    required: ['items', 'next'],
    properties: {
      items: { type: 'array', items: item },
      next: { type: ['string', 'null'], description: 'Cursor of the next page; null at the end' },
    },
  }) as const;

export const errors = {
  400: problemResponse(
    'Bad parameter, malformed cursor (QUERY_BAD_CURSOR), minPosition beyond the head (QUERY_POSITION_BEYOND_HEAD)',
  ),
  503: problemResponse(
    'minPosition not reached in time (QUERY_POSITION_TIMEOUT, with Retry-After), or no read models (QUERY_READ_MODELS_UNAVAILABLE)',
  ),
};

export const page = (query: PageQuery) => ({
  limit: query.limit ?? 100,
  ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
  ...(query.minPosition === undefined ? {} : { minPosition: BigInt(query.minPosition) }),
});

/** Sends an answer with the position it reflects. */
export const answer = <T extends { position: bigint }>(
  reply: FastifyReply,
  { position, ...body }: T,
): Omit<T, 'position'> => {
  void reply.header(POSITION_HEADER, position.toString());
  return body;
};

/** The read-model queries, or QUERY_READ_MODELS_UNAVAILABLE on a server without read models. */
export function available<T>(queries: T | undefined): T {
  if (queries === undefined)
    throw new ProvenantError(
      'QUERY_READ_MODELS_UNAVAILABLE',
      'this server has no read models (see PROVENANT_PROJECTIONS)',
    );
  return queries;
}

/** In this scope, a `minPosition` wait that timed out tells the client when to come back. */
export function retryAfterTimeouts(app: FastifyInstance): void {
  app.setErrorHandler(function (error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    if (isProvenantError(error) && error.code === 'QUERY_POSITION_TIMEOUT')
      void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return handleError.call(this, error, request, reply);
  });
}
