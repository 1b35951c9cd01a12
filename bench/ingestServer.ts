// The server side of `npm run bench -- ingest` when it runs in a child process:
// buildApp on a SQLite file (synchronous=FULL, WAL) listening on loopback, driven
// over IPC by bench/ingest.ts: it reports its port, answers `stats` with the
// store's group-commit counters, and closes on `close`.
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import { buildApp } from '../src/http/app.js';

/** Messages between the benchmark and this server. */
export type ServerMessage =
  | { kind: 'listening'; port: number }
  | { kind: 'stats'; commits: number; appends: number; events: number };
export type ClientMessage = { kind: 'stats' } | { kind: 'close' };

const path = process.argv[2];
if (path === undefined || process.send === undefined) {
  console.error('usage: run by bench/ingest.ts with an IPC channel and a database path');
  process.exit(2);
}
const send = (message: ServerMessage): void => {
  process.send?.(message);
};
const store = getSQLiteEventStore({ path, synchronous: 'FULL' });
const app = await buildApp({ store, storeDescription: `bench ${path}`, ownsStore: true });
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
send({ kind: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
process.on('message', (message: ClientMessage) => {
  if (message.kind === 'stats') send({ kind: 'stats', ...store.stats() });
  else
    void app.close().then(() => {
      process.disconnect?.();
      process.exit(0);
    });
});
