// The server side of `npm run bench -- ingest`, in a child process driven over IPC
// by bench/ingest.ts: it reports its port, answers `stats` with the store's
// group-commit counters, and closes on `close`.
//
// Modes:
//   store  buildApp on a SQLite file (synchronous=FULL, WAL): what is measured
//   bare   a fastify route that parses the JSON body and answers as ingest would,
//          storing nothing: the ceiling of HTTP on this machine with this client
import Fastify, { type FastifyInstance } from 'fastify';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import { buildApp } from '../src/http/app.js';
import { anonymousAuth } from '../src/security/index.js';

export type ServerMode = 'store' | 'bare';

/** Messages between the benchmark and this server. */
export type ServerMessage =
  | { kind: 'listening'; port: number }
  | { kind: 'stats'; commits: number; appends: number; events: number };
export type ClientMessage = { kind: 'stats' } | { kind: 'close' };

const [mode, path] = process.argv.slice(2);
if ((mode !== 'store' && mode !== 'bare') || path === undefined || process.send === undefined) {
  console.error(
    'usage: run by bench/ingest.ts with an IPC channel: ingestServer <store|bare> <db path>',
  );
  process.exit(2);
}
const send = (message: ServerMessage): void => {
  process.send?.(message);
};

function bareApp(): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.addContentTypeParser(
    ['application/json', 'application/cloudevents-batch+json'],
    { parseAs: 'string' },
    (_request, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch (error) {
        done(error as Error);
      }
    },
  );
  app.post('/v1/events', async (request, reply) => {
    const body: unknown = request.body;
    if (Array.isArray(body)) return reply.code(200).send({ accepted: body.length });
    return reply.code(201).send({ id: request.headers['ce-id'] });
  });
  return app;
}

const store = mode === 'store' ? getSQLiteEventStore({ path, synchronous: 'FULL' }) : undefined;
const app =
  store === undefined
    ? bareApp()
    : await buildApp({
        auth: anonymousAuth(),
        store,
        storeDescription: `bench ${path}`,
        ownsStore: true,
      });
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
send({ kind: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
process.on('message', (message: ClientMessage) => {
  if (message.kind === 'stats')
    send({ kind: 'stats', ...(store?.stats() ?? { commits: 0, appends: 0, events: 0 }) });
  else
    void app.close().then(() => {
      process.disconnect?.();
      process.exit(0);
    });
});
