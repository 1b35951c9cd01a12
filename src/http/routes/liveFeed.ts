// GET /v1/events/stream: the log as server-sent events (DESIGN.md §5), so a
// watcher subscribes without a broker client. From `?from=<position>` (exclusive)
// or, on a reconnection, from the `Last-Event-ID` the client sends (each event's
// SSE `id` is its position), else from now; the same filters as GET /v1/events.
// A comment every `heartbeatMs` keeps proxies from closing an idle stream. Each
// client has a bounded buffer: when it holds `bufferSize` events the client is too
// slow, and is sent `event: overflow` (with the position to resume after) and
// disconnected, so a slow client never costs unbounded memory. Streams end
// cleanly when the server shuts down.
import { fastifySSE } from '@fastify/sse';
import type { FastifyInstance } from 'fastify';
import { ProvenantError } from '../../errors.js';
import type { RecordedEvent } from '../../eventStore/types.js';
import type { RouteDeps } from '../deps.js';
import { eventFilterOf, filterProperties, type FilterQuery } from '../eventFilter.js';
import { toEventView } from '../json.js';

interface StreamQuery extends FilterQuery {
  from?: string;
}

const POSITION = '^[0-9]{1,19}$';
/** How long an overflowing client has to take its last message before its socket is destroyed. */
const OVERFLOW_GRACE_MS = 5000;

export async function liveFeedRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const heartbeatMs = deps.liveFeed?.heartbeatMs ?? 15_000;
  const bufferSize = deps.liveFeed?.bufferSize ?? 1000;
  // `data` given as text is sent as it is: each event is written out once (eventText).
  await app.register(fastifySSE, {
    heartbeatInterval: heartbeatMs,
    serializer: (data: unknown) => (typeof data === 'string' ? data : JSON.stringify(data)),
  });
  /**
   * The JSON of the events sent lately, by position: every client at the head
   * is sent the same events, and each is written out once, not once per client.
   */
  const recentText = new Map<bigint, string>();
  const eventText = (event: RecordedEvent): string => {
    let text = recentText.get(event.position);
    if (text === undefined) {
      text = JSON.stringify(toEventView(event));
      recentText.set(event.position, text);
      // One in, the oldest out (insertion order): the clients furthest behind write theirs again.
      const [oldest] = recentText.keys();
      if (recentText.size > bufferSize && oldest !== undefined) recentText.delete(oldest);
    }
    return text;
  };
  /** What ends each open stream, for shutdown. */
  const open = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const end of open) end();
    done();
  });

  app.get<{ Querystring: StreamQuery; Headers: { 'last-event-id'?: string } }>(
    '/v1/events/stream',
    {
      config: { permission: 'read' },
      sse: { kind: 'only' },
      schema: {
        tags: ['log'],
        summary: 'The log as server-sent events, live, resumable from a position',
        description:
          'Each event is one SSE message: `id` its position, `data` the event as GET /v1/events shows it. Resume ' +
          'with `Last-Event-ID` (browsers send it on reconnection) or `?from=<position>` (exclusive); without either ' +
          'the stream starts at the head. Heartbeat comments keep it open; a client that falls `bufferSize` events ' +
          'behind receives `event: overflow` (data: the position to resume after) and is disconnected.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: {
              type: 'string',
              pattern: POSITION,
              description: 'Start after this position',
            },
            ...filterProperties,
          },
        },
        // Every `id` this stream sends is a position: any other is a client's mistake, refused
        // rather than read as "from the head", which would skip what it missed.
        headers: {
          type: 'object',
          properties: {
            'last-event-id': {
              type: 'string',
              pattern: POSITION,
              description: 'Resume after this position (wins over `from`)',
            },
          },
        },
      },
    },
    async (request, reply) => {
      const filter = eventFilterOf(request.query);
      const resume = request.headers['last-event-id'] ?? request.query.from;
      const head = await deps.store.headPosition();
      const from = resume !== undefined ? BigInt(resume) : head;
      // A position the log has not reached (a log restored from an older copy, another
      // store's id): waiting there would skip every event up to it, silently.
      if (from > head)
        throw new ProvenantError(
          'QUERY_POSITION_BEYOND_HEAD',
          `cannot resume after position ${from}: the head of the log is ${head}`,
          { details: { from: from.toString(), head: head.toString() } },
        );
      const subscription = deps.store.subscribeToAll({
        from,
        ...(filter === undefined ? {} : { filter }),
      });

      const queue: RecordedEvent[] = [];
      let closed = false;
      let overflowed = false;
      let ended = false;
      let wake: (() => void) | undefined;
      const signal = (): void => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const end = (): void => {
        if (closed) return;
        closed = true;
        void subscription.close();
        signal();
      };
      open.add(end);
      reply.sse.keepAlive();
      reply.sse.onClose(end);
      // The stream's headers go out at once, so a client knows it is subscribed;
      // the connection ends with the stream (nothing to reuse it for), so a
      // shutdown is not kept waiting by an idle keep-alive socket.
      void reply.header('connection', 'close');
      reply.sse.sendHeaders();
      reply.raw.write(`: subscribed after position ${from}\n\n`);

      const pump = (async () => {
        try {
          for await (const event of subscription) {
            if (closed) break;
            queue.push(event);
            if (queue.length >= bufferSize) {
              overflowed = true;
              break;
            }
            signal();
          }
        } catch (error) {
          request.log.warn({ err: error }, 'live feed subscription failed');
        } finally {
          ended = true;
          signal();
        }
      })();

      let lastSent = from;
      try {
        while (!closed) {
          const event = queue.shift();
          if (event !== undefined) {
            await reply.sse.send({ id: event.position.toString(), data: eventText(event) });
            lastSent = event.position;
            continue;
          }
          if (overflowed) {
            request.log.warn(
              { bufferSize, lastSent: lastSent.toString() },
              'live feed client too slow: disconnected',
            );
            void reply.sse.send({
              event: 'overflow',
              data: { resumeAfter: lastSent.toString(), bufferSize },
            });
            setTimeout(() => reply.raw.destroy(), OVERFLOW_GRACE_MS).unref();
            break;
          }
          if (ended) break;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        open.delete(end);
        end();
        reply.sse.close();
        void pump.then(() => request.log.debug('live feed subscription ended'));
      }
    },
  );
}
