// GET /v1/events: the log itself, `$all` read from a position, paged.
import type { FastifyInstance } from 'fastify';
import { positionBeyondHead } from '../../application/queries/readModels/position.js';
import { ProvenantError } from '../../errors.js';
import type { RouteDeps } from '../deps.js';
import { eventFilterOf, filterProperties, type FilterQuery } from '../eventFilter.js';
import { eventViewSchema, toEventView } from '../json.js';

interface LogQuery extends FilterQuery {
  after?: string;
  before?: string;
  limit?: number;
  direction?: 'forwards' | 'backwards';
}

export const MAX_PAGE = 1000;

export function logRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Querystring: LogQuery }>(
    '/v1/events',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['log'],
        summary: 'Read the global log ($all) from a position, one page at a time',
        description:
          'Positions are exclusive: forwards returns events after `after`; backwards returns events before `before`. ' +
          'Pass the returned `next` back as `after` (or `before`) to read the following page. An `after` beyond ' +
          'the head of the log is 400 QUERY_POSITION_BEYOND_HEAD (not an empty page).',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: {
              type: 'string',
              pattern: '^[0-9]{1,20}$',
              description: 'Read events after this position',
            },
            before: {
              type: 'string',
              pattern: '^[0-9]{1,20}$',
              description: 'With direction=backwards: events before this position',
            },
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 100 },
            direction: { type: 'string', enum: ['forwards', 'backwards'], default: 'forwards' },
            ...filterProperties,
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['events', 'next'],
            properties: {
              events: { type: 'array', items: eventViewSchema },
              next: {
                type: ['string', 'null'],
                description: 'Cursor for the next page; null at the end',
              },
            },
          },
        },
      },
    },
    async (request) => {
      const { after, before, limit = 100, direction = 'forwards' } = request.query;
      const filter = eventFilterOf(request.query);
      if (direction === 'forwards' && before !== undefined)
        throw new ProvenantError(
          'HTTP_BAD_REQUEST',
          '`before` goes with direction=backwards; use `after` forwards',
        );
      if (direction === 'backwards' && after !== undefined)
        throw new ProvenantError(
          'HTTP_BAD_REQUEST',
          '`after` goes with direction=forwards; use `before` backwards',
        );
      const cursor = direction === 'forwards' ? after : before;
      const events = await deps.store.readAll({
        direction,
        maxCount: limit,
        from: cursor !== undefined ? BigInt(cursor) : direction === 'forwards' ? 'start' : 'end',
        ...(filter !== undefined ? { filter } : {}),
      });
      // An empty page after a position the log has not reached (a log restored from an
      // older copy, another store's cursor) is refused: a poller would wait there for
      // ever, skipping what is written up to it. The head is read only then.
      if (events.length === 0 && direction === 'forwards' && cursor !== undefined) {
        const head = await deps.store.headPosition();
        if (BigInt(cursor) > head) throw positionBeyondHead('after', BigInt(cursor), head);
      }
      const last = events.at(-1);
      return {
        events: events.map(toEventView),
        next: events.length === limit && last !== undefined ? last.position.toString() : null,
      };
    },
  );
}
