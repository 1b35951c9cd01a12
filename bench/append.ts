// `npm run bench -- append`: the port's SQLite appends against raw better-sqlite3
// inserts of the same ~1 KiB events, in the same run and on the same disk, both
// at synchronous=FULL in WAL mode.
//
// Cases:
//   batch100     appends of 100 events through the port vs raw 100-row transactions
//   groupCommit  single-event appends from 32 concurrent appenders (group commit)
//                vs raw one-row-per-transaction inserts
//
// Two more raw cases split the batch100 gap (informative): the same 100-row
// transactions into the port's own table (ULID ids, digest and idempotency
// columns, indexes, triggers) with precomputed digests, and the same again with
// the port's integrity work done inline (RFC 8785 canonical data, content digest,
// chain link) but none of its machinery (checks, group commit, savepoints).
//
// fsync times on a shared VM drift by tens of percent within seconds, so each
// case runs in several rounds, raw and port back to back on fresh files, and
// the reported ratio is the median of the per-round ratios. The batch cases run
// interleaved, batch by batch, each batch timed alone, so the drift hits raw and
// port alike; the single-event pair alternates its order from round to round.
// Each round's files are deleted before the next starts (otherwise the kernel is
// still writing back their pages while later cases measure their fsyncs).
//
// Every timed section starts from a drained event loop and ends after one turn
// of it (timedTurn in support.ts), so the tasks V8 posts while a case runs (GC
// steps among them) are charged to that case. Raw cases never yield: before
// this, whatever their batches left pending ran inside the next port batch,
// which yields once for group commit.
import { join } from 'node:path';
import { canonicalize } from '../src/encoding/canonicalJson.js';
import { newEventId } from '../src/eventStore/ids.js';
import { ZERO_DIGEST, contentDigestOfCanonical, eventDigest } from '../src/eventStore/integrity.js';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import { migrate } from '../src/eventStore/sqlite/migrate.js';
import {
  fmtRate,
  openBenchDatabase,
  openRawEventTable,
  fmtRatio,
  printTable,
  sampleEvent,
  scaled,
  tempDir,
  timedTurn,
  type BenchContext,
} from './support.js';

const BATCH = 100;
const APPENDERS = 32;
const ROUNDS = 5;
const METADATA = { principal: 'bench', correlationId: 'bench-run' };

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/** One way of appending batches of events to a fresh file. */
export interface BatchCase {
  /** Appends the batch that starts at event `from`. */
  append(from: number): Promise<unknown> | void;
  close(): Promise<void> | void;
}

/**
 * Runs the cases batch by batch, interleaved (which case goes first rotates
 * with every batch), and times each case's batches alone, so that a drift in
 * fsync times hits every case alike. Each batch is timed from a drained event
 * loop through one turn of it (timedTurn): a raw case, which never yields,
 * would otherwise leave the tasks V8 posts during its batch to the next case
 * that yields, which is the port. Returns events/s per case.
 */
export async function runInterleaved(
  cases: Record<string, () => BatchCase>,
  batches: number,
  batchSize: number,
): Promise<Record<string, number>> {
  const names = Object.keys(cases);
  const open = names.map((name) => (cases[name] as () => BatchCase)());
  const nanos = names.map(() => 0n);
  for (let b = 0; b < batches; b++)
    for (let k = 0; k < open.length; k++) {
      const c = (b + k) % open.length;
      const timedBatch = await timedTurn(() => open[c]?.append(b * batchSize));
      nanos[c] = (nanos[c] ?? 0n) + timedBatch.nanos;
    }
  for (const c of open) await c.close();
  return Object.fromEntries(
    names.map((name, c) => [name, (batches * batchSize) / (Number(nanos[c] ?? 0n) / 1e9)]),
  );
}

export async function benchAppend(ctx: BenchContext): Promise<Record<string, number>> {
  const { dir, clear, dispose } = tempDir('append');
  let file = 0;
  const fresh = (name: string): string => join(dir, `${name}-${file++}.db`);
  try {
    const batches = Math.max(1, Math.round(scaled(ctx, 20_000, BATCH) / BATCH));
    const batchEvents = batches * BATCH;
    const singleEvents = scaled(ctx, 1_500, 50);
    const groupEvents = scaled(ctx, 9_600, APPENDERS);
    const events = Array.from(
      { length: Math.max(batchEvents, groupEvents, singleEvents) },
      (_, i) => sampleEvent(i),
    );
    const metadataJson = JSON.stringify(METADATA);
    // The port's input, built before timing (the raw cases get theirs for free).
    const portInput = events.map((data) => ({
      type: 'ReceiptRecorded.v1',
      data,
      metadata: METADATA,
    }));
    const batchOf = (from: number) => portInput.slice(from, from + BATCH);

    /** Raw, 100 rows per transaction. */
    const rawBatch = (): BatchCase => {
      const raw = openRawEventTable(fresh('raw-batch'));
      const txn = raw.db.transaction((from: number) => {
        const now = new Date().toISOString();
        for (let i = from; i < from + BATCH; i++)
          raw.insert.run(
            `id-${i}`,
            `unit-${Math.floor(i / BATCH) % 50}`,
            i,
            'ReceiptRecorded.v1',
            JSON.stringify(events[i]),
            metadataJson,
            now,
          );
      });
      return { append: (from) => void txn(from), close: () => void raw.db.close() };
    };

    /**
     * Raw 100-row transactions into the port's table: with precomputed digests and
     * JSON.stringify (`integrity: false`), or with canonical JSON, the content
     * digest and the chain link computed inline (`integrity: true`).
     */
    const rawPortTable = (integrity: boolean): BatchCase => {
      const db = openBenchDatabase(fresh(integrity ? 'raw-integrity' : 'raw-port-table'));
      migrate(db);
      const insert = db.prepare(
        `INSERT INTO events (id, stream, revision, type, data, metadata, content_digest, prev_digest, recorded_at, idempotency_key, idempotency_digest)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
      );
      const fixedDigest = 'ab'.repeat(32);
      const heads = new Map<string, { revision: number; prev: string }>();
      const txn = db.transaction((from: number) => {
        const now = new Date();
        const recordedAt = now.toISOString();
        const stream = `unit-${(from / BATCH) % 50}`;
        const head = heads.get(stream) ?? { revision: -1, prev: ZERO_DIGEST };
        for (let i = from; i < from + BATCH; i++) {
          const data = integrity ? canonicalize(events[i]) : JSON.stringify(events[i]);
          const digest = integrity
            ? contentDigestOfCanonical('ReceiptRecorded.v1', data, undefined)
            : fixedDigest;
          insert.run(
            newEventId(now.getTime()),
            stream,
            ++head.revision,
            'ReceiptRecorded.v1',
            data,
            metadataJson,
            digest,
            head.prev,
            recordedAt,
          );
          if (integrity) head.prev = eventDigest(head.prev, digest);
        }
        heads.set(stream, head);
      });
      return { append: (from) => void txn(from), close: () => void db.close() };
    };

    /** Port, 100 events per append. */
    const portBatch = (writer: 'inline' | 'worker'): BatchCase => {
      const store = getSQLiteEventStore({ path: fresh(`port-batch-${writer}`), writer });
      return {
        append: (from) => store.append(`unit-${(from / BATCH) % 50}`, batchOf(from)),
        close: () => store.close(),
      };
    };

    /** Runs the batch cases interleaved (see runInterleaved) and deletes their files. */
    const interleaved = async (
      cases: Record<string, () => BatchCase>,
    ): Promise<Record<string, number>> => {
      const rates = await runInterleaved(cases, batches, BATCH);
      clear();
      return rates;
    };

    /** Raw, one row per transaction (autocommit): events/s. */
    const rawSingle = async (): Promise<number> => {
      const raw = openRawEventTable(fresh('raw-single'));
      const { nanos } = await timedTurn(() => {
        for (let i = 0; i < singleEvents; i++)
          raw.insert.run(
            `id-${i}`,
            `unit-${i % 50}`,
            i,
            'ReceiptRecorded.v1',
            JSON.stringify(events[i]),
            metadataJson,
            new Date().toISOString(),
          );
      });
      raw.db.close();
      return singleEvents / (Number(nanos) / 1e9);
    };

    /** Port, single-event appends from 32 concurrent appenders: events/s and appends per commit. */
    const portGroup = async (): Promise<{ rate: number; perCommit: number }> => {
      const store = getSQLiteEventStore({ path: fresh('port-group') });
      let next = 0;
      const { nanos } = await timedTurn(() =>
        Promise.all(
          Array.from({ length: APPENDERS }, async (_, a) => {
            for (;;) {
              const i = next++;
              if (i >= groupEvents) return;
              await store.append(`unit-${a}`, [
                { type: 'ReceiptRecorded.v1', data: events[i], metadata: METADATA },
              ]);
            }
          }),
        ),
      );
      const stats = store.stats();
      await store.close();
      return {
        rate: groupEvents / (Number(nanos) / 1e9),
        perCommit: stats.appends / stats.commits,
      };
    };

    const rounds: Record<string, number[]> = {
      rawBatch: [],
      rawPortTable: [],
      rawIntegrity: [],
      portTableRatio: [],
      integrityRatio: [],
      portBatch: [],
      portBatchWorker: [],
      batchRatio: [],
      workerRatio: [],
      rawSingle: [],
      portGroup: [],
      groupRatio: [],
      perCommit: [],
    };
    const push = (key: string, value: number): void => void rounds[key]?.push(value);
    for (let round = 0; round < ROUNDS; round++) {
      const {
        raw = 0,
        table = 0,
        integrity = 0,
        port = 0,
        worker = 0,
      } = await interleaved({
        raw: rawBatch,
        table: () => rawPortTable(false),
        integrity: () => rawPortTable(true),
        port: () => portBatch('inline'),
        worker: () => portBatch('worker'),
      });
      push('rawBatch', raw);
      push('rawPortTable', table);
      push('rawIntegrity', integrity);
      push('portTableRatio', table / raw);
      push('integrityRatio', integrity / raw);
      push('portBatch', port);
      push('portBatchWorker', worker);
      push('batchRatio', port / raw);
      push('workerRatio', worker / raw);
      let single: number;
      let group: Awaited<ReturnType<typeof portGroup>>;
      if (round % 2 === 0) {
        single = await rawSingle();
        clear();
        group = await portGroup();
      } else {
        group = await portGroup();
        clear();
        single = await rawSingle();
      }
      clear();
      push('rawSingle', single);
      push('portGroup', group.rate);
      push('groupRatio', group.rate / single);
      push('perCommit', group.perCommit);
    }
    const m = (key: string): number => median(rounds[key] ?? []);
    const range = (key: string): string =>
      `${Math.min(...(rounds[key] ?? [])).toFixed(2)}–${Math.max(...(rounds[key] ?? [])).toFixed(2)}`;

    const figures = {
      rounds: ROUNDS,
      rawBatch100EventsPerSec: m('rawBatch'),
      rawPortTableBatch100EventsPerSec: m('rawPortTable'),
      batch100PortTableRatio: m('portTableRatio'),
      rawIntegrityBatch100EventsPerSec: m('rawIntegrity'),
      batch100InlineIntegrityRatio: m('integrityRatio'),
      portBatch100EventsPerSec: m('portBatch'),
      batch100Ratio: m('batchRatio'),
      portBatch100WorkerEventsPerSec: m('portBatchWorker'),
      batch100WorkerWriterRatio: m('workerRatio'),
      rawSingleEventsPerSec: m('rawSingle'),
      groupCommitEventsPerSec: m('portGroup'),
      groupCommitRatio: m('groupRatio'),
      groupCommitMeanGroupSize: m('perCommit'),
    };
    printTable(
      ctx,
      `append (SQLite, synchronous=FULL, ~${JSON.stringify(events[0]).length} B events, median of ${ROUNDS} rounds)`,
      [
        ['raw batch of 100', fmtRate(figures.rawBatch100EventsPerSec)],
        [
          "raw batch of 100 into the port's table",
          fmtRate(figures.rawPortTableBatch100EventsPerSec),
        ],
        [
          'batch100PortTableRatio',
          `${figures.batch100PortTableRatio.toFixed(2)}x (informative); rounds ${range('portTableRatio')}`,
        ],
        [
          '  + canonical JSON, digests, chain inline',
          fmtRate(figures.rawIntegrityBatch100EventsPerSec),
        ],
        [
          'batch100InlineIntegrityRatio',
          `${figures.batch100InlineIntegrityRatio.toFixed(2)}x (informative); rounds ${range('integrityRatio')}`,
        ],
        ['port batch of 100', fmtRate(figures.portBatch100EventsPerSec)],
        ['batch100Ratio', `${fmtRatio(figures.batch100Ratio, 0.7)}; rounds ${range('batchRatio')}`],
        ['port batch of 100, worker writer', fmtRate(figures.portBatch100WorkerEventsPerSec)],
        [
          'batch100WorkerWriterRatio',
          `${figures.batch100WorkerWriterRatio.toFixed(2)}x (informative); rounds ${range('workerRatio')}`,
        ],
        ['raw one row per transaction', fmtRate(figures.rawSingleEventsPerSec)],
        [`port single appends x${APPENDERS} concurrent`, fmtRate(figures.groupCommitEventsPerSec)],
        [
          'groupCommitRatio',
          `${fmtRatio(figures.groupCommitRatio, 3)}; rounds ${range('groupRatio')}`,
        ],
        ['mean appends per commit', figures.groupCommitMeanGroupSize.toFixed(1)],
      ],
    );
    return figures;
  } finally {
    dispose();
  }
}
