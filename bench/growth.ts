// `npm run bench -- growth`: how the cost of the API's operations grows with the
// size of the log and of a unit (issue 12). Everything is measured in one run,
// over HTTP on loopback against the server as `provenant serve` runs it
// (startServer: the default configuration, SQLite synchronous=FULL, WAL), each
// store in a temp directory that is deleted at the end.
//
// Log size: two stores, SMALL (10,000 events × scale) and LARGE (1,000,000 ×
// scale, always 100× SMALL). Each gets two gates and a stage through the API
// first (as a real log would have them near its start), then its bulk through
// the EventStore port: `ReceiptRecorded.v1` events shaped as ingest records them
// (five ~1 KiB receipts per unit, with origin, CloudEvent context and idempotency
// key), 200 units' appends at a time so that group commit writes them ~1,000
// events per transaction. Then, on each store, rates of:
//   ingest        POST /v1/events, binary mode, one receipt each, 32 concurrent
//   unitStatus    GET /v1/units/{key} of the units just recorded, 32 concurrent
//   revokeRecent  POST /v1/receipts/{id}/revoke of the receipts just recorded,
//                 newest first, one at a time (expects 200)
//   revokeUnknown the same with ids no receipt has, one at a time (expects 404)
//   firstRequest  from startServer (open the store, build the app, listen) to the
//                 first answered receipt ingest, which needs the definitions;
//                 median over several restarts, in ms (its ratio is SMALL ÷ LARGE)
// and `<op>GrowthRatio` = rate on LARGE ÷ rate on SMALL. Target >= 0.8 each.
//
// Unit size: a third store holding a unit of 100 receipts and a unit of 10,000
// × scale (at least 200) filled through the port. On each unit: GET
// /v1/units/{key} (the response holds every receipt, so the rate is receipts
// served per second: reads/s × receipts) and recording one more receipt (POST
// /v1/events, one at a time, receipts/s). `unitReadGrowthRatio` and
// `unitRecordGrowthRatio` = on the large unit ÷ on the small one. Target >= 0.5.
//
// The servers run without the inline projection runner and attestor
// (PROVENANT_PROJECTIONS=off, PROVENANT_ATTEST_ON_STAGE_PASSED=false), as API nodes
// do when projections run as their own process: the bulk of each log goes
// through the port, so inline projections would spend the whole run catching up
// on a million events (about 5,000 events/s today, `bench projections`) and the
// figures would measure that catch-up, not the API. With them on, the first
// request on the large log took about 1 s, and recording on the 10,000-receipt
// unit slowed to a few receipts/s because the unit summary projection rewrites
// the unit's whole artifact list on every receipt (see docs/costs.md).
//
// Every measurement stops issuing requests after a time budget (2-20 s by scale)
// once one has started, so a cost that grows with the log bounds the run's length
// rather than its count of operations. The machine's speed drifts (other work,
// fsync times), so the stores take turns: the log-size measurements run small,
// large, large, small (each turn on a fresh server, with its own receipts) and
// each rate is the mean of a store's two turns; the restarts alternate between
// the stores; the unit-size measurements run on two pairs of units, small, large,
// large, small. Fill progress goes to stderr.
//
// The logs are filled by bench/growthFill.ts, the requests sent by
// bench/growthHttp.ts and each turn measured by bench/growthMeasure.ts; this file
// holds the run's plan (stores, turns, means) and the report.
import { join } from 'node:path';
import { loadConfig, type Config } from '../src/config.js';
import { startServer } from '../src/http/server.js';
import { fmtRatio, printTable, scaled, tempDir, type BenchContext } from './support.js';
import { fillBulk, fillUnit, prepareStore } from './growthFill.js';
import { httpClient, median } from './growthHttp.js';
import {
  firstRequestMs,
  measureLog,
  measureUnit,
  type Counts,
  type LogRates,
  type UnitFigures,
} from './growthMeasure.js';

const LOG_TARGET = 0.8;
const UNIT_TARGET = 0.5;

const configFor = (dir: string, file: string): Config =>
  loadConfig(
    {
      PROVENANT_DATA_DIR: dir,
      PROVENANT_SQLITE_PATH: file,
      PROVENANT_HOST: '127.0.0.1',
      PROVENANT_PORT: '0',
      PROVENANT_LOG_LEVEL: 'silent',
      // The API's own costs, as on the API nodes of a multi-process install: the
      // bulk of each log is appended through the port, behind the projections'
      // back, so inline projections would spend the whole run catching up on it
      // (`bench projections` measures them). See the header.
      PROVENANT_PROJECTIONS: 'off',
      PROVENANT_ATTEST_ON_STAGE_PASSED: 'false',
      // Growth with the log's size, not the cost of a credential check (that is per request, flat).
      PROVENANT_AUTH_ANONYMOUS: 'true',
    },
    dir,
  );

export async function benchGrowth(ctx: BenchContext): Promise<Record<string, number>> {
  const { dir, dispose } = tempDir('growth');
  try {
    const smallEvents = scaled(ctx, 10_000, 100);
    const largeEvents = 100 * smallEvents;
    const n: Counts = {
      ingest: scaled(ctx, 2_000, 100),
      reads: scaled(ctx, 2_000, 100),
      revocations: scaled(ctx, 300, 20),
      restarts: ctx.scale >= 0.1 ? 5 : 3,
      budgetSeconds: Math.min(20, Math.max(2, 30 * ctx.scale)),
    };
    const smallUnit = 100;
    // Two pairs of units (a, b) so that each turn reads and records on units of the stated size.
    const largeUnit = Math.max(2 * smallUnit, scaled(ctx, 10_000));
    const unitReads = scaled(ctx, 50, 10);
    const unitRecords = scaled(ctx, 100, 20);

    const stores = {
      small: configFor(dir, join(dir, 'small.db')),
      large: configFor(dir, join(dir, 'large.db')),
      units: configFor(dir, join(dir, 'units.db')),
    };
    let fillEventsPerSec = 0;
    const smallLogEvents = await prepareStore(stores.small, (store) =>
      fillBulk(store, 'small', smallEvents).then(() => smallEvents),
    );
    const largeLogEvents = await prepareStore(stores.large, async (store) => {
      fillEventsPerSec = await fillBulk(store, 'large', largeEvents);
      return largeEvents;
    });
    // Turns: small, large, large, small; each rate is the mean of a store's two turns.
    const turns: Record<'small' | 'large', LogRates[]> = { small: [], large: [] };
    for (const [k, which] of (['small', 'large', 'large', 'small'] as const).entries())
      turns[which].push(await measureLog(stores[which], `${which}${k}`, n, k === 0));
    const mean = (which: 'small' | 'large'): LogRates => {
      const all = turns[which];
      const avg = (f: (r: LogRates) => number): number =>
        all.reduce((sum, r) => sum + f(r), 0) / all.length;
      return {
        ingest: avg((r) => r.ingest),
        unitStatus: avg((r) => r.unitStatus),
        revokeRecent: avg((r) => r.revokeRecent),
        revokeUnknown: avg((r) => r.revokeUnknown),
      };
    };
    const starts: Record<'small' | 'large', number[]> = { small: [], large: [] };
    for (let r = 0; r < n.restarts; r++)
      for (const which of r % 2 === 0
        ? (['small', 'large'] as const)
        : (['large', 'small'] as const))
        starts[which].push(await firstRequestMs(stores[which], `${which}-restart${r}`));
    const small = { ...mean('small'), firstRequestMs: median(starts.small) };
    const large = { ...mean('large'), firstRequestMs: median(starts.large) };

    const keys = (pair: string) => ({
      small: `unit-small-${pair}/1.0.0/1.el9/x86_64/rpm`,
      large: `unit-large-${pair}/1.0.0/1.el9/x86_64/rpm`,
    });
    const pairs = [keys('a'), keys('b')];
    await prepareStore(stores.units, async (store) => {
      for (const units of pairs) {
        await fillUnit(store, units.small, smallUnit);
        await fillUnit(store, units.large, largeUnit);
      }
      return 2 * (smallUnit + largeUnit);
    });
    const server = await startServer(stores.units);
    const http = httpClient(server.url);
    const unitTurns: Record<'small' | 'large', UnitFigures[]> = { small: [], large: [] };
    try {
      const order = [
        ['small', 0],
        ['large', 0],
        ['large', 1],
        ['small', 1],
      ] as const;
      for (const [which, p] of order) {
        const key = (pairs[p] ?? keys('a'))[which];
        const receipts = which === 'small' ? smallUnit : largeUnit;
        unitTurns[which].push(
          await measureUnit(http, key, receipts, unitReads, unitRecords, n.budgetSeconds),
        );
      }
    } finally {
      await http.close();
      await server.shutdown();
    }
    const unitMean = (which: 'small' | 'large'): UnitFigures => {
      const all = unitTurns[which];
      return {
        readReceiptsPerSec: all.reduce((sum, u) => sum + u.readReceiptsPerSec, 0) / all.length,
        recordPerSec: all.reduce((sum, u) => sum + u.recordPerSec, 0) / all.length,
      };
    };
    const unit = { small: unitMean('small'), large: unitMean('large') };

    const figures = {
      smallLogEvents,
      largeLogEvents,
      fillEventsPerSec,
      smallIngestPerSec: small.ingest,
      largeIngestPerSec: large.ingest,
      ingestGrowthRatio: large.ingest / small.ingest,
      smallUnitStatusPerSec: small.unitStatus,
      largeUnitStatusPerSec: large.unitStatus,
      unitStatusGrowthRatio: large.unitStatus / small.unitStatus,
      smallRevokeRecentPerSec: small.revokeRecent,
      largeRevokeRecentPerSec: large.revokeRecent,
      revokeRecentGrowthRatio: large.revokeRecent / small.revokeRecent,
      smallRevokeUnknownPerSec: small.revokeUnknown,
      largeRevokeUnknownPerSec: large.revokeUnknown,
      revokeUnknownGrowthRatio: large.revokeUnknown / small.revokeUnknown,
      smallFirstRequestMs: small.firstRequestMs,
      largeFirstRequestMs: large.firstRequestMs,
      firstRequestGrowthRatio: small.firstRequestMs / large.firstRequestMs,
      unitSmallReceipts: smallUnit,
      unitLargeReceipts: largeUnit,
      unitReadSmallReceiptsPerSec: unit.small.readReceiptsPerSec,
      unitReadLargeReceiptsPerSec: unit.large.readReceiptsPerSec,
      unitReadGrowthRatio: unit.large.readReceiptsPerSec / unit.small.readReceiptsPerSec,
      unitRecordSmallPerSec: unit.small.recordPerSec,
      unitRecordLargePerSec: unit.large.recordPerSec,
      unitRecordGrowthRatio: unit.large.recordPerSec / unit.small.recordPerSec,
    };
    const ops = (v: number, what = 'ops/s'): string =>
      `${v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3)} ${what}`;
    const pair = (a: number, b: number, what?: string): string =>
      `${ops(a, what)} -> ${ops(b, what)}`;
    const S = smallLogEvents.toLocaleString('en-US');
    const L = largeLogEvents.toLocaleString('en-US');
    printTable(
      ctx,
      `growth (HTTP on loopback, startServer defaults: SQLite synchronous=FULL; log of ${S} -> ${L} events, filled at ${ops(fillEventsPerSec, 'events/s')})`,
      [
        [`log size ${S} -> ${L} events:`, '(rate on the large log ÷ rate on the small)'],
        ['  ingest, binary mode, 32 concurrent', pair(small.ingest, large.ingest, 'receipts/s')],
        ['  ingestGrowthRatio', fmtRatio(figures.ingestGrowthRatio, LOG_TARGET)],
        [
          '  GET /v1/units/{key} (5 receipts), 32 concurrent',
          pair(small.unitStatus, large.unitStatus),
        ],
        ['  unitStatusGrowthRatio', fmtRatio(figures.unitStatusGrowthRatio, LOG_TARGET)],
        ['  revoke a recent receipt, one at a time', pair(small.revokeRecent, large.revokeRecent)],
        ['  revokeRecentGrowthRatio', fmtRatio(figures.revokeRecentGrowthRatio, LOG_TARGET)],
        [
          '  revoke an unknown id (404), one at a time',
          pair(small.revokeUnknown, large.revokeUnknown),
        ],
        ['  revokeUnknownGrowthRatio', fmtRatio(figures.revokeUnknownGrowthRatio, LOG_TARGET)],
        [
          `  start to first ingest answered, median of ${n.restarts} starts`,
          `${small.firstRequestMs.toFixed(0)} ms -> ${large.firstRequestMs.toFixed(0)} ms`,
        ],
        [
          '  firstRequestGrowthRatio (small ms ÷ large ms)',
          fmtRatio(figures.firstRequestGrowthRatio, LOG_TARGET),
        ],
        [
          `unit size ${smallUnit} -> ${largeUnit.toLocaleString('en-US')} receipts:`,
          '(large unit ÷ small; a read returns every receipt: rate = reads/s × receipts)',
        ],
        [
          '  GET /v1/units/{key}, one at a time, receipts served/s',
          pair(unit.small.readReceiptsPerSec, unit.large.readReceiptsPerSec, 'receipts/s'),
        ],
        ['  unitReadGrowthRatio', fmtRatio(figures.unitReadGrowthRatio, UNIT_TARGET)],
        [
          '  record one more receipt, one at a time',
          pair(unit.small.recordPerSec, unit.large.recordPerSec, 'receipts/s'),
        ],
        ['  unitRecordGrowthRatio', fmtRatio(figures.unitRecordGrowthRatio, UNIT_TARGET)],
      ],
    );
    return figures;
  } finally {
    dispose();
  }
}
