// `npm run bench -- projections`: the query side (issue 13 §10).
//
// - Rebuild: every projection replayed from position 0 into a fresh read-model
//   file (the runner, every projection) over a log of 1,000,000 events × scale,
//   against a raw read + JSON.parse of the same log's rows in the same run (in
//   a child process: bench/projectionsRawRead.ts) (`rebuildRatio` = raw seconds
//   ÷ rebuild seconds; target >= 0.3) and in events/s (target >= 50,000); also
//   in CPU time (`rebuildCpuRatio`, informative: steadier on a loaded machine;
//   the rebuild's includes the index-building worker thread). Peak
//   RSS of the bench process is sampled every 20 ms while it runs (target <
//   300 MB); neither the fill nor the baseline ran in it.
// - Time travel: `asOf` (a position in the middle) on a unit of 10,000 events ×
//   scale, folded from the log under the definitions of then (target < 50 ms);
//   beside it, the same rows read raw with their data parsed (the floor of any
//   answer that lists every receipt), and the same asOf through the route.
// - GET /v1/units/{key} through the app, served from the read models (kept current
//   by the runner; checked) ÷ a bare fastify route returning the same JSON, both
//   through inject() (`unitReadRatio`, target >= 0.5); also in CPU per request,
//   and the app's hooks alone: a route of the app answering the same JSON
//   without reading (`hooksOnlyRatio`, informative).
// `--only rebuild,asof,unit-read` runs some parts (without rebuild: no bulk log).
import Fastify from 'fastify';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { projections } from '../projections/index.js';
import { createDomainService } from '../src/application/index.js';
import { unitStatusFromReadModels } from '../src/application/queries/readModels/unitStatus.js';
import { unitStatusAsOf } from '../src/application/queries/timeTravel.js';
import { openDatabase } from '../src/eventStore/sqlite/database.js';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import { buildApp } from '../src/http/app.js';
import { anonymousAuth } from '../src/security/index.js';
import { createProjectionRunner } from '../src/readModels/index.js';
import { getSQLiteReadModelStore } from '../src/readModels/sqlite/index.js';
import {
  fmtRate,
  fmtRatio,
  percentile,
  printTable,
  runs,
  sampleEvent,
  scaled,
  tempDir,
  timed,
  type BenchContext,
} from './support.js';

/** A unit's rows up to `position` read raw, their data parsed: the floor of any `asOf`. */
function rawUnitRead(path: string, stream: string, position: bigint): number {
  const db = openDatabase(path, { readonly: true });
  try {
    const rows = db
      .prepare(
        'SELECT id, type, revision, position, recorded_at, data FROM events WHERE stream = ? AND position <= ? ORDER BY revision',
      )
      .all(stream, position) as { data: string }[];
    for (const row of rows) JSON.parse(row.data);
    return rows.length;
  } finally {
    db.close();
  }
}

/** Runs a bench script in a child process, its progress on our stderr; resolves to its stdout. */
function runChild(script: string, args: readonly string[]): Promise<string> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${script} exited with ${code}`)),
    );
  });
}

/** Fills the log in a child process (see projectionsLog.ts). */
const fillLogInChild = (path: string, events: number): Promise<string> =>
  runChild('./projectionsLog.ts', [path, String(events)]);

/** The raw baseline's wall and CPU seconds, measured in a child process (see projectionsRawRead.ts). */
const rawReadInChild = async (path: string): Promise<{ seconds: number; cpuSeconds: number }> =>
  JSON.parse(await runChild('./projectionsRawRead.ts', [path])) as {
    seconds: number;
    cpuSeconds: number;
  };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function benchProjections(ctx: BenchContext): Promise<Record<string, number>> {
  const tmp = tempDir('projections');
  try {
    const logPath = join(tmp.dir, 'log.db');
    const target = scaled(ctx, 1_000_000, 1000);
    // Without the rebuild part, the log holds only what the other parts append.
    const fill = runs(ctx, 'rebuild')
      ? await timed(() => fillLogInChild(logPath, target))
      : { seconds: Number.NaN };
    const store = getSQLiteEventStore({ path: logPath, synchronous: 'NORMAL' });
    const head = await store.headPosition();
    const logEvents = Number(head);
    const readModels = getSQLiteReadModelStore({ path: join(tmp.dir, 'rm.db') });
    const runner = createProjectionRunner({
      eventStore: store,
      readModels,
      projections,
    });
    const figures: Record<string, number> = { logEvents };
    const rows: [string, string][] = [];

    if (runs(ctx, 'rebuild')) {
      // The raw baseline in its own process (read twice, the second timed), so
      // that its heap is not counted in the rebuild's RSS; the rebuild then finds
      // the log's pages in the OS cache, as the baseline's timed read did.
      const raw = await rawReadInChild(logPath);
      let peakRss = process.memoryUsage.rss();
      const rssBefore = peakRss;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage.rss());
      }, 20);
      const cpu = process.cpuUsage(); // all threads of the process: the index worker's too
      const rebuild = await timed(async () => {
        await runner.start();
        for (;;) {
          const status = await runner.status();
          // Caught up, deferred indexes built (on a worker: reads no longer wait for them).
          if (status.every((s) => s.checkpoint >= head && s.state === 'caught-up')) break;
          await sleep(20);
        }
      });
      const cpuUsed = process.cpuUsage(cpu);
      const rebuildCpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      await runner.stop(); // not competing with the asOf timings; started again below
      const rebuildEventsPerSec = logEvents / rebuild.seconds;
      Object.assign(figures, {
        fillEventsPerSec: logEvents / fill.seconds,
        rawReadEventsPerSec: logEvents / raw.seconds,
        rebuildEventsPerSec,
        rebuildRatio: raw.seconds / rebuild.seconds,
        rawReadCpuSeconds: raw.cpuSeconds,
        rebuildCpuSeconds,
        /** The same quotient in CPU time (informative). */
        rebuildCpuRatio: raw.cpuSeconds / rebuildCpuSeconds,
        rebuildPeakRssMb: peakRss / 1024 / 1024,
        /** RSS when the rebuild started (the log was filled by a child process). */
        rssBeforeRebuildMb: rssBefore / 1024 / 1024,
      });
      const peakRssMb = peakRss / 1024 / 1024;
      rows.push(
        ['fill', fmtRate(logEvents / fill.seconds)],
        ['raw read + JSON.parse', fmtRate(logEvents / raw.seconds)],
        [`rebuild (${projections.length} projections)`, fmtRate(rebuildEventsPerSec)],
        ['rebuildRatio', fmtRatio(raw.seconds / rebuild.seconds, 0.3)],
        ['rebuild >= 50,000 events/s', rebuildEventsPerSec >= 50_000 ? 'met' : 'NOT met'],
        [
          '  in CPU time',
          `${rebuildCpuSeconds.toFixed(2)} vs ${raw.cpuSeconds.toFixed(2)} s raw: ${(raw.cpuSeconds / rebuildCpuSeconds).toFixed(2)}x (informative)`,
        ],
        [
          'peak RSS during rebuild',
          `${peakRssMb.toFixed(0)} MB, from ${(rssBefore / 1024 / 1024).toFixed(0)} MB at its start (target < 300 MB: ${peakRssMb < 300 ? 'met' : 'NOT met'})`,
        ],
      );
    }

    const domain = createDomainService({ eventStore: store });
    await domain.defineGate('build', { requiredActions: ['build', 'unit-test'] });
    await domain.defineStage('release', { gates: ['build'] });

    if (runs(ctx, 'asof')) {
      // asOf on a unit of 10,000 events × scale.
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
      const asOfCpuMs: number[] = [];
      const rawMs: number[] = [];
      for (let i = 0; i < 7; i++) {
        const cpu = process.cpuUsage();
        const { seconds } = await timed(() => unitStatusAsOf(store, bigUnit, { position: middle }));
        const used = process.cpuUsage(cpu);
        asOfMs.push(seconds * 1000);
        asOfCpuMs.push((used.user + used.system) / 1000);
        rawMs.push(
          (await timed(() => rawUnitRead(logPath, `unit-${bigUnit}`, middle))).seconds * 1000,
        );
      }
      // The same asOf as GET /v1/units/{key}?asOf= answers it (inject(): the route,
      // its serialization of the ~5 MB answer, and light-my-request's copies of it).
      const app = await buildApp({ auth: anonymousAuth(), store, storeDescription: 'bench' });
      const asOfUrl = `/v1/units/${encodeURIComponent(bigUnit)}?asOf=${middle}`;
      const httpMs: number[] = [];
      const httpCpuMs: number[] = [];
      for (let i = 0; i < 7; i++) {
        const cpu = process.cpuUsage();
        const { seconds } = await timed(async () => {
          const res = await app.inject(asOfUrl);
          if (res.statusCode !== 200) throw new Error(`asOf over HTTP: ${res.statusCode}`);
        });
        const used = process.cpuUsage(cpu);
        httpMs.push(seconds * 1000);
        httpCpuMs.push((used.user + used.system) / 1000);
      }
      await app.close();
      for (const list of [asOfMs, asOfCpuMs, rawMs, httpMs, httpCpuMs]) list.sort((a, b) => a - b);
      const asOfMedianMs = percentile(asOfMs, 50);
      const asOfRawReadMs = percentile(rawMs, 50);
      Object.assign(figures, {
        asOfUnitEvents: bigEvents,
        asOfMedianMs,
        /** CPU time of the same calls (all threads: GC included). */
        asOfCpuMedianMs: percentile(asOfCpuMs, 50),
        /** The floor: the same rows read raw and their data parsed, no fold, no views. */
        asOfRawReadMs,
        /** The same asOf through the route (inject), and its CPU. */
        asOfHttpMedianMs: percentile(httpMs, 50),
        asOfHttpCpuMedianMs: percentile(httpCpuMs, 50),
      });
      rows.push(
        [
          `asOf, unit of ${bigEvents.toLocaleString('en-US')} events`,
          `${asOfMedianMs.toFixed(1)} ms median, ${percentile(asOfCpuMs, 50).toFixed(1)} ms CPU (target < 50 ms: ${asOfMedianMs < 50 ? 'met' : 'NOT met'})`,
        ],
        ['  its rows read raw + JSON.parse', `${asOfRawReadMs.toFixed(1)} ms median (informative)`],
        [
          '  the same through GET /v1/units/{key}?asOf= (inject)',
          `${percentile(httpMs, 50).toFixed(1)} ms median, ${percentile(httpCpuMs, 50).toFixed(1)} ms CPU (informative)`,
        ],
      );
    }

    if (runs(ctx, 'unit-read')) {
      // GET /v1/units/{key} vs a bare route with the same JSON.
      const unit = 'openssl/3.2.1/2.el9/x86_64/rpm';
      for (const action of ['build', 'unit-test', 'sast', 'sca', 'image-scan'])
        await domain.recordReceipt({ unit, action, multipass: true });
      // Served from the read models: the runner keeps them current with the log.
      await runner.start();
      const unitHead = await store.headPosition();
      while ((await runner.status()).some((s) => s.checkpoint < unitHead)) await sleep(10);
      const app = await buildApp({
        auth: anonymousAuth(),
        store,
        storeDescription: 'bench',
        readModels,
      });
      const url = `/v1/units/${encodeURIComponent(unit)}`;
      // What is measured is the read-model path, not the fold.
      const served = await unitStatusFromReadModels(readModels, unit, unitHead, () =>
        domain.currentDefinitions(),
      );
      if (served === undefined) throw new Error('the read models do not serve the unit');
      // The app's hooks alone (auth, rate limit, metrics, request id, routing):
      // a route of the app that answers the same JSON without reading anything,
      // written as the unit route writes it (informative: how much of the gap
      // is the app's per-request machinery, how much the read-model path).
      const constantUrl = '/bench/unit-constant';
      const constant: { body?: unknown } = {};
      app.get(constantUrl, { config: { permission: 'read' } }, (_request, reply) =>
        reply.type('application/json; charset=utf-8').send(JSON.stringify(constant.body)),
      );
      const body = (await app.inject(url)).json<unknown>();
      constant.body = body;
      if ((await app.inject(constantUrl)).body !== JSON.stringify(body))
        throw new Error('the constant route does not answer the same JSON');
      const bare = Fastify();
      bare.get('/unit', (_request, reply) => reply.send(body));
      await bare.ready();
      const rounds = 5;
      const perRound = Math.ceil(scaled(ctx, 5000, 200) / rounds);
      const requests = perRound * rounds;
      const cases = [
        () => bare.inject('/unit'),
        () => app.inject(url),
        () => app.inject(constantUrl),
      ];
      // inject()'s response socket completes each write with setImmediate: the
      // event loop must turn now and then, or every response stays on the heap
      // until it does (tens of MB, and the garbage collector's time with them).
      const turn = () => new Promise((resolve) => setImmediate(resolve));
      // Both warmed up with as many requests as are measured: the app's route runs
      // far more code than the bare one, and over its first few thousand requests
      // it costs 2-4x what it costs once compiled (docs/projections.md, "Where the
      // unit read's time goes"); 50 requests left most of that in the figure.
      for (const fn of cases)
        for (let i = 1; i <= requests; i++) {
          await fn();
          if (i % perRound === 0) await turn();
        }
      // Then measured in alternating rounds, so that a change of load on the
      // machine falls on both alike; each figure sums its rounds.
      const spent = cases.map(() => ({ seconds: 0, cpuUs: 0 }));
      for (let round = 0; round < rounds; round++)
        for (const k of cases.map((_, i) => (i + round) % cases.length)) {
          const fn = cases[k] as () => Promise<unknown>;
          await turn();
          const cpu = process.cpuUsage();
          const { seconds } = await timed(async () => {
            for (let i = 0; i < perRound; i++) await fn();
          });
          const used = process.cpuUsage(cpu);
          const total = spent[k] as { seconds: number; cpuUs: number };
          total.seconds += seconds;
          total.cpuUs += used.user + used.system;
        }
      /** Requests per second, and CPU microseconds per request (GC threads included). */
      const [bareRate, bareCpuUs, unitRate, unitCpuUs, hooksRate, hooksCpuUs] = spent.flatMap(
        ({ seconds, cpuUs }) => [requests / seconds, cpuUs / requests],
      ) as [number, number, number, number, number, number];
      await bare.close();
      await app.close();
      await runner.stop();
      Object.assign(figures, {
        bareUnitReadsPerSec: bareRate,
        unitReadsPerSec: unitRate,
        unitReadRatio: unitRate / bareRate,
        bareUnitReadCpuUs: bareCpuUs,
        unitReadCpuUs: unitCpuUs,
        /** The same comparison in CPU time per request (steadier on a loaded machine). */
        unitReadCpuRatio: bareCpuUs / unitCpuUs,
        /** The app's route answering the same JSON without reading (its hooks alone) ÷ bare. */
        hooksOnlyReadsPerSec: hooksRate,
        hooksOnlyRatio: hooksRate / bareRate,
        hooksOnlyCpuUs: hooksCpuUs,
      });
      rows.push(
        ['GET /v1/units/{key} (inject)', `${Math.round(unitRate).toLocaleString('en-US')}/s`],
        ['bare fastify, same JSON', `${Math.round(bareRate).toLocaleString('en-US')}/s`],
        ['unitReadRatio', fmtRatio(unitRate / bareRate, 0.5)],
        [
          '  in CPU per request',
          `${unitCpuUs.toFixed(0)} vs ${bareCpuUs.toFixed(0)} us: ${(bareCpuUs / unitCpuUs).toFixed(2)}x (informative)`,
        ],
        [
          "  the app's hooks alone (same JSON, no reads)",
          `${Math.round(hooksRate).toLocaleString('en-US')}/s, ${hooksCpuUs.toFixed(0)} us CPU: ${(hooksRate / bareRate).toFixed(2)}x of bare (informative)`,
        ],
      );
    }
    await readModels.close();
    await store.close();
    printTable(
      ctx,
      `projections (log of ${logEvents.toLocaleString('en-US')} events, SQLite)`,
      rows,
    );
    return figures;
  } finally {
    tmp.dispose();
  }
}
