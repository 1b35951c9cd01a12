// `npm run bench -- append`: the port's SQLite appends against raw better-sqlite3
// inserts of the same ~1 KiB events, in the same run and on the same disk, both
// at synchronous=FULL in WAL mode.
//
// Cases:
//   batch100     appends of 100 events through the port vs raw 100-row transactions
//   groupCommit  single-event appends from 32 concurrent appenders (group commit)
//                vs raw one-row-per-transaction inserts
import { join } from 'node:path';
import { openDatabase, setPragmas, type Database } from '../src/eventStore/sqlite/database.js';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import {
  fmtRate,
  fmtRatio,
  printTable,
  sampleEvent,
  scaled,
  tempDir,
  timed,
  type BenchContext,
} from './support.js';

const BATCH = 100;
const APPENDERS = 32;

function openRaw(path: string): { db: Database.Database; insert: Database.Statement } {
  const db = openDatabase(path);
  setPragmas(db, { journal_mode: 'WAL', synchronous: 'FULL' });
  db.exec(`CREATE TABLE events (
    position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL, revision INTEGER NOT NULL,
    type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL,
    UNIQUE (stream, revision)) STRICT`);
  const insert = db.prepare(
    'INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  return { db, insert };
}

export async function benchAppend(ctx: BenchContext): Promise<Record<string, number>> {
  const { dir, dispose } = tempDir('append');
  try {
    const batchEvents = scaled(ctx, 20_000, BATCH);
    const singleEvents = scaled(ctx, 1_500, 50);
    const groupEvents = scaled(ctx, 9_600, APPENDERS);
    const events = Array.from(
      { length: Math.max(batchEvents, groupEvents, singleEvents) },
      (_, i) => sampleEvent(i),
    );
    const metadata = JSON.stringify({ principal: 'bench', correlationId: 'bench-run' });

    // Raw, 100 rows per transaction.
    const raw = openRaw(join(dir, 'raw-batch.db'));
    const rawBatch = await timed(() => {
      const txn = raw.db.transaction((from: number) => {
        const now = new Date().toISOString();
        for (let i = from; i < from + BATCH; i++)
          raw.insert.run(
            `id-${i}`,
            `unit-${Math.floor(i / BATCH) % 50}`,
            i,
            'ReceiptRecorded.v1',
            JSON.stringify(events[i]),
            metadata,
            now,
          );
      });
      for (let from = 0; from < batchEvents; from += BATCH) txn(from);
    });
    raw.db.close();

    // Port, 100 events per append.
    const store = getSQLiteEventStore({ path: join(dir, 'port-batch.db') });
    const portBatch = await timed(async () => {
      for (let from = 0; from < batchEvents; from += BATCH) {
        const batch = events.slice(from, from + BATCH).map((data) => ({
          type: 'ReceiptRecorded.v1',
          data,
          metadata: { principal: 'bench', correlationId: 'bench-run' },
        }));
        await store.append(`unit-${(from / BATCH) % 50}`, batch);
      }
    });
    await store.close();

    // Port, 100 events per append, with the writer on a worker thread.
    const workerStore = getSQLiteEventStore({
      path: join(dir, 'port-batch-worker.db'),
      writer: 'worker',
    });
    const portBatchWorker = await timed(async () => {
      for (let from = 0; from < batchEvents; from += BATCH) {
        const batch = events.slice(from, from + BATCH).map((data) => ({
          type: 'ReceiptRecorded.v1',
          data,
          metadata: { principal: 'bench', correlationId: 'bench-run' },
        }));
        await workerStore.append(`unit-${(from / BATCH) % 50}`, batch);
      }
    });
    await workerStore.close();

    // Raw, one row per transaction (autocommit).
    const rawSingleDb = openRaw(join(dir, 'raw-single.db'));
    const rawSingle = await timed(() => {
      for (let i = 0; i < singleEvents; i++)
        rawSingleDb.insert.run(
          `id-${i}`,
          `unit-${i % 50}`,
          i,
          'ReceiptRecorded.v1',
          JSON.stringify(events[i]),
          metadata,
          new Date().toISOString(),
        );
    });
    rawSingleDb.db.close();

    // Port, single-event appends from 32 concurrent appenders.
    const groupStore = getSQLiteEventStore({ path: join(dir, 'port-group.db') });
    let next = 0;
    const group = await timed(async () => {
      await Promise.all(
        Array.from({ length: APPENDERS }, async (_, a) => {
          for (;;) {
            const i = next++;
            if (i >= groupEvents) return;
            await groupStore.append(`unit-${a}`, [
              {
                type: 'ReceiptRecorded.v1',
                data: events[i],
                metadata: { principal: 'bench', correlationId: 'bench-run' },
              },
            ]);
          }
        }),
      );
    });
    const stats = groupStore.stats();
    await groupStore.close();

    const figures = {
      rawBatch100EventsPerSec: batchEvents / rawBatch.seconds,
      portBatch100EventsPerSec: batchEvents / portBatch.seconds,
      batch100Ratio: rawBatch.seconds / portBatch.seconds,
      portBatch100WorkerEventsPerSec: batchEvents / portBatchWorker.seconds,
      batch100WorkerWriterRatio: rawBatch.seconds / portBatchWorker.seconds,
      rawSingleEventsPerSec: singleEvents / rawSingle.seconds,
      groupCommitEventsPerSec: groupEvents / group.seconds,
      groupCommitRatio: groupEvents / group.seconds / (singleEvents / rawSingle.seconds),
      groupCommitMeanGroupSize: stats.appends / stats.commits,
    };
    printTable(
      ctx,
      `append (SQLite, synchronous=FULL, ~${JSON.stringify(events[0]).length} B events)`,
      [
        ['raw batch of 100', fmtRate(figures.rawBatch100EventsPerSec)],
        ['port batch of 100', fmtRate(figures.portBatch100EventsPerSec)],
        ['batch100Ratio', fmtRatio(figures.batch100Ratio, 0.7)],
        ['port batch of 100, worker writer', fmtRate(figures.portBatch100WorkerEventsPerSec)],
        [
          'batch100WorkerWriterRatio',
          `${figures.batch100WorkerWriterRatio.toFixed(2)}x (informative)`,
        ],
        ['raw one row per transaction', fmtRate(figures.rawSingleEventsPerSec)],
        [`port single appends x${APPENDERS} concurrent`, fmtRate(figures.groupCommitEventsPerSec)],
        ['groupCommitRatio', fmtRatio(figures.groupCommitRatio, 3)],
        ['mean appends per commit', figures.groupCommitMeanGroupSize.toFixed(1)],
      ],
    );
    return figures;
  } finally {
    dispose();
  }
}
