// Child process of the crash tests: appends continuously to a few streams and
// prints the id of each event as soon as its append is acknowledged. The parent
// kills it with SIGKILL at random moments. The target is a SQLite file, or
// `postgres:<schema>` on the server named by PROVENANT_TEST_POSTGRES_URL.
import { getPostgresEventStore } from '../../src/eventStore/postgres/index.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventStore } from '../../src/eventStore/types.js';

const [path, round, writerMode = 'inline'] = process.argv.slice(2);
if (
  path === undefined ||
  round === undefined ||
  (writerMode !== 'inline' && writerMode !== 'worker')
) {
  console.error('usage: crashWriter.ts <db path | postgres:<schema>> <round> [inline|worker]');
  process.exit(2);
}
const store: EventStore = path.startsWith('postgres:')
  ? getPostgresEventStore({
      connectionString: process.env.PROVENANT_TEST_POSTGRES_URL ?? '',
      schema: path.slice('postgres:'.length),
    })
  : getSQLiteEventStore({ path, writer: writerMode });
let seq = 0;
const writer = async (w: number): Promise<never> => {
  for (;;) {
    const n = seq++;
    const batch = n % 5 === 0 ? 3 : 1;
    const result = await store.append(
      `unit-crash-${w}`,
      Array.from({ length: batch }, (_, i) => ({
        type: 'CrashTest.v1',
        data: { round, n, i, pad: 'x'.repeat(200) },
        idempotencyKey: `crash:${round}:${n}:${i}`,
      })),
    );
    process.stdout.write(result.events.map((e) => `${e.id}\n`).join(''));
  }
};
console.error('writer ready');
await Promise.all([0, 1, 2, 3].map(writer));
