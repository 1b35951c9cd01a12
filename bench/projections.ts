// `npm run bench -- projections`: the query side (issue 13 §10).
//
// - Rebuild: every projection replayed from position 0 into a fresh read-model
//   file (the runner, all five loops) over a log of 1,000,000 events × scale,
//   against a raw read + JSON.parse of the same log's rows in the same run
//   (`rebuildRatio` = raw seconds ÷ rebuild seconds; target >= 0.3) and in
//   events/s (target >= 50,000). Peak RSS is sampled every 20 ms while it runs
//   (target < 300 MB).
// - Time travel: `asOf` (a position in the middle) on a unit of 10,000 events ×
//   scale, folded from the log under the definitions of then (target < 50 ms).
// - GET /v1/units/{key} through the app ÷ a bare fastify route returning the same
//   JSON, both through inject() (`unitReadRatio`, target >= 0.5).
import Fastify from 'fastify';
import { join } from 'node:path';
import { projections } from '../projections/index.js';
import { createDomainService } from '../src/application/index.js';
import { unitStatusAsOf } from '../src/application/queries/timeTravel.js';
import { openDatabase } from '../src/eventStore/sqlite/database.js';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import type { EventStore, EventToAppend } from '../src/eventStore/types.js';
import { buildApp } from '../src/http/app.js';
import { createProjectionRunner } from '../src/readModels/index.js';
import { getSQLiteReadModelStore } from '../src/readModels/sqlite/index.js';
import {
  fmtRate,
  fmtRatio,
  percentile,
  printTable,
  sampleEvent,
  scaled,
  tempDir,
  timed,
  type BenchContext,
} from './support.js';

/** Events per unit in the bulk log: 16 receipts, 2 gate verdicts, 1 stage verdict, 1 pipeline event. */
const PER_UNIT = 20;
const PARALLEL_UNITS = 100;

function unitEvents(u: number): { unit: string; events: EventToAppend[]; pipeline: EventToAppend } {
  const unit = `pkg${u % 5000}/1.${Math.floor(u / 5000)}.0/1.el9/x86_64/rpm`;
  const receiptIds: string[] = [];
  const events: EventToAppend[] = [];
  for (let k = 0; k < 16; k++) {
    const data = { ...sampleEvent(u * PER_UNIT + k), unit, receiptId: `r-${u}-${k}` };
    receiptIds.push(data.receiptId);
    events.push({ type: 'ReceiptRecorded.v1', data });
  }
  const trigger = { kind: 'receipt-recorded', receiptId: receiptIds.at(-1) };
  for (const [gateId, verdict] of [
    ['build', 'passed'],
    ['security', u % 3 === 0 ? 'failed' : 'passed'],
  ] as const)
    events.push({
      type: verdict === 'passed' ? 'GatePassed.v1' : 'GateFailed.v1',
      data: { unit, gateId, gateVersion: 1, verdict, receiptIds, missingActions: [], trigger },
    });
  events.push({
    type: 'StagePassed.v1',
    data: { unit, stageId: 'release', stageVersion: 1, passed: true, receiptIds, trigger },
  });
  const pipeline: EventToAppend = {
    type: 'PipelineEventRecorded.v1',
    data: {
      cloudEvent: {
        source: 'https://ci.example.com/pipelines/openssl',
        type: 'dev.cdevents.pipelinerun.finished.0.2.0',
        subject: unit,
        time: '2024-05-01T12:00:00Z',
      },
    },
    metadata: { correlationId: `run-${u}` },
  };
  return { unit, events, pipeline };
}

export async function fillLog(store: EventStore, total: number): Promise<void> {
  const units = Math.ceil(total / PER_UNIT);
  for (let first = 0; first < units; first += PARALLEL_UNITS) {
    const batch = Array.from({ length: Math.min(PARALLEL_UNITS, units - first) }, (_, k) =>
      unitEvents(first + k),
    );
    await Promise.all([
      ...batch.map(({ unit, events }) => store.append(`unit-${unit}`, events.slice(0, 19))),
      store.append(
        'pipeline-bench',
        batch.map((b) => b.pipeline),
      ),
    ]);
    if (!process.stderr.isTTY && first % (PARALLEL_UNITS * 100) === 0 && first > 0)
      process.stderr.write(
        `projections: filled ${(first * PER_UNIT).toLocaleString('en-US')} events\n`,
      );
  }
}

/** Reads every row of the log file and parses data and metadata: the floor of any replay. */
function rawRead(path: string): number {
  const db = openDatabase(path, { readonly: true });
  try {
    let n = 0;
    const rows = db
      .prepare(
        'SELECT position, id, stream, revision, type, data, metadata, recorded_at FROM events ORDER BY position',
      )
      .iterate() as IterableIterator<{ data: string; metadata: string }>;
    for (const row of rows) {
      JSON.parse(row.data);
      JSON.parse(row.metadata);
      n++;
    }
    return n;
  } finally {
    db.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function benchProjections(ctx: BenchContext): Promise<Record<string, number>> {
  const tmp = tempDir('projections');
  try {
    const logPath = join(tmp.dir, 'log.db');
    const store = getSQLiteEventStore({ path: logPath, synchronous: 'NORMAL' });
    const target = scaled(ctx, 1_000_000, 1000);
    const fill = await timed(() => fillLog(store, target));
    const head = await store.headPosition();
    const logEvents = Number(head);

    // Raw baseline, then the rebuild (each read once before, so both start warm).
    rawRead(logPath);
    const raw = await timed(() => rawRead(logPath));
    const readModels = getSQLiteReadModelStore({ path: join(tmp.dir, 'rm.db') });
    const runner = createProjectionRunner({
      eventStore: store,
      readModels,
      projections,
    });
    let peakRss = process.memoryUsage.rss();
    const rssBefore = peakRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }, 20);
    const rebuild = await timed(async () => {
      await runner.start();
      for (;;) {
        const status = await runner.status();
        if (status.every((s) => s.checkpoint >= head)) break;
        await sleep(20);
      }
    });
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    await runner.stop();
    await readModels.close();

    // asOf on a unit of 10,000 events × scale.
    const domain = createDomainService({ eventStore: store });
    await domain.defineGate('build', { requiredActions: ['build', 'unit-test'] });
    await domain.defineStage('release', { gates: ['build'] });
    const bigUnit = 'big/1.0.0/1.el9/x86_64/rpm';
    const bigEvents = scaled(ctx, 10_000, 100);
    for (let from = 0; from < bigEvents; from += 1000) {
      const count = Math.min(1000, bigEvents - from);
      await store.append(
        `unit-${bigUnit}`,
        Array.from({ length: count }, (_, k) => ({
          type: 'ReceiptRecorded.v1',
          data: { ...sampleEvent(from + k), unit: bigUnit, receiptId: `big-${from + k}` },
        })),
      );
    }
    const bigHead = await store.headPosition();
    const middle = bigHead - BigInt(Math.floor(bigEvents / 2));
    const asOfMs: number[] = [];
    for (let i = 0; i < 7; i++) {
      const { seconds } = await timed(() => unitStatusAsOf(store, bigUnit, { position: middle }));
      asOfMs.push(seconds * 1000);
    }
    asOfMs.sort((a, b) => a - b);
    const asOfMedianMs = percentile(asOfMs, 50);

    // GET /v1/units/{key} vs a bare route with the same JSON.
    const unit = 'openssl/3.2.1/2.el9/x86_64/rpm';
    for (const action of ['build', 'unit-test', 'sast', 'sca', 'image-scan'])
      await domain.recordReceipt({ unit, action, multipass: true });
    const app = await buildApp({ store, storeDescription: 'bench' });
    const url = `/v1/units/${encodeURIComponent(unit)}`;
    const body = (await app.inject(url)).json<unknown>();
    const bare = Fastify();
    bare.get('/unit', (_request, reply) => reply.send(body));
    await bare.ready();
    const requests = scaled(ctx, 5000, 200);
    const loop = async (fn: () => Promise<unknown>): Promise<number> => {
      for (let i = 0; i < 50; i++) await fn(); // warm-up
      const { seconds } = await timed(async () => {
        for (let i = 0; i < requests; i++) await fn();
      });
      return requests / seconds;
    };
    const bareRate = await loop(() => bare.inject('/unit'));
    const unitRate = await loop(() => app.inject(url));
    await bare.close();
    await app.close();
    await store.close();

    const rebuildEventsPerSec = logEvents / rebuild.seconds;
    const figures = {
      logEvents,
      fillEventsPerSec: logEvents / fill.seconds,
      rawReadEventsPerSec: logEvents / raw.seconds,
      rebuildEventsPerSec,
      rebuildRatio: raw.seconds / rebuild.seconds,
      rebuildPeakRssMb: peakRss / 1024 / 1024,
      /** RSS when the rebuild started (the log was filled by this process, just before). */
      rssBeforeRebuildMb: rssBefore / 1024 / 1024,
      asOfUnitEvents: bigEvents,
      asOfMedianMs,
      bareUnitReadsPerSec: bareRate,
      unitReadsPerSec: unitRate,
      unitReadRatio: unitRate / bareRate,
    };
    printTable(ctx, `projections (log of ${logEvents.toLocaleString('en-US')} events, SQLite)`, [
      ['fill', fmtRate(figures.fillEventsPerSec)],
      ['raw read + JSON.parse', fmtRate(figures.rawReadEventsPerSec)],
      ['rebuild (5 projections)', fmtRate(rebuildEventsPerSec)],
      ['rebuildRatio', fmtRatio(figures.rebuildRatio, 0.3)],
      ['rebuild >= 50,000 events/s', rebuildEventsPerSec >= 50_000 ? 'met' : 'NOT met'],
      [
        'peak RSS during rebuild',
        `${figures.rebuildPeakRssMb.toFixed(0)} MB, from ${figures.rssBeforeRebuildMb.toFixed(0)} MB at its start (target < 300 MB: ${figures.rebuildPeakRssMb < 300 ? 'met' : 'NOT met'})`,
      ],
      [
        `asOf, unit of ${bigEvents.toLocaleString('en-US')} events`,
        `${asOfMedianMs.toFixed(1)} ms median (target < 50 ms: ${asOfMedianMs < 50 ? 'met' : 'NOT met'})`,
      ],
      ['GET /v1/units/{key} (inject)', `${Math.round(unitRate).toLocaleString('en-US')}/s`],
      ['bare fastify, same JSON', `${Math.round(bareRate).toLocaleString('en-US')}/s`],
      ['unitReadRatio', fmtRatio(figures.unitReadRatio, 0.5)],
    ]);
    return figures;
  } finally {
    tmp.dispose();
  }
}
