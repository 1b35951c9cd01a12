// Shared helpers for benchmarks: timing, temp directories, output in a human
// table or one JSON object (`--json`), ratios named `<case>Ratio`.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { openDatabase, setPragmas, type Database } from '../src/eventStore/sqlite/database.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchContext {
  json: boolean;
  /** Scale factor for event counts (`--scale 0.1` for a quick run). */
  scale: number;
  /** Only these parts of a benchmark (`--only a,b`), where it has parts; undefined: all. */
  only?: ReadonlySet<string>;
  log: (line: string) => void;
}

/** True when `part` of a benchmark is to run (`--only` unset or naming it). */
export const runs = (ctx: BenchContext, part: string): boolean =>
  ctx.only === undefined || ctx.only.has(part);

export const scaled = (ctx: BenchContext, n: number, min = 1): number =>
  Math.max(min, Math.round(n * ctx.scale));

export function tempDir(prefix: string): { dir: string; clear: () => void; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `provenant-bench-${prefix}-`));
  return {
    dir,
    /**
     * Deletes every file in the directory. Between cases, so that the kernel is
     * not still writing back one case's pages while the next one measures fsyncs.
     */
    clear: () => {
      for (const name of readdirSync(dir)) rmSync(join(dir, name), { force: true });
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One turn of the event loop: pending callbacks and the tasks V8 posts (GC steps) run. */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Times `fn` the way every compared case is timed: from a drained event loop
 * (work left pending by whatever ran before runs first, untimed) through one
 * turn of it after `fn` (work `fn` left pending is charged to `fn`). Without
 * this, a case that never yields (a raw synchronous transaction) leaves the
 * tasks V8 posts while it runs (GC steps among them) to the next case that
 * does yield, which is then charged for them.
 */
export async function timedTurn<T>(fn: () => Promise<T> | T): Promise<{ nanos: bigint; value: T }> {
  await turn();
  const start = process.hrtime.bigint();
  const value = await fn();
  await turn();
  return { nanos: process.hrtime.bigint() - start, value };
}

export async function timed<T>(fn: () => Promise<T> | T): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

/** A ~1 KiB receipt-like event body, different per index. */
export function sampleEvent(i: number): Record<string, unknown> {
  return {
    receiptId: `rcpt-${i.toString(36).padStart(8, '0')}`,
    unit: `openssl/3.2.${i % 50}/2.el9/x86_64/rpm`,
    action: ['build', 'unit-test', 'sast', 'sca', 'image-scan'][i % 5],
    multipass: i % 7 !== 0,
    producer: 'https://ci.example.com/pipelines/openssl',
    results: {
      tests: 1200 + (i % 100),
      failures: i % 7 === 0 ? 3 : 0,
      errors: 0,
      skipped: 12,
      durationMs: 93_000 + i,
    },
    artifacts: [
      {
        name: `openssl-3.2.${i % 50}-2.el9.x86_64.rpm`,
        uri: `https://artifacts.example.com/rpm/openssl-3.2.${i % 50}-2.el9.x86_64.rpm`,
        digest: { sha256: (i * 2654435761).toString(16).padStart(16, '0').repeat(4).slice(0, 64) },
      },
    ],
    evidence: [
      {
        uri: `https://ci.example.com/runs/${i}/report.xml`,
        digest: { sha256: (i * 40503).toString(16).padStart(16, 'a').repeat(4).slice(0, 64) },
        mediaType: 'application/xml',
      },
    ],
    custom: {
      pipelineRun: `run-${i}`,
      commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      branch: 'main',
      notes: 'x'.repeat(180),
    },
  };
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return 0;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)] ?? 0;
}

export function printTable(ctx: BenchContext, title: string, rows: [string, string][]): void {
  if (ctx.json) return;
  const width = Math.max(...rows.map(([k]) => k.length));
  ctx.log(`\n${title}`);
  for (const [k, v] of rows) ctx.log(`  ${k.padEnd(width)}  ${v}`);
}

export const fmtRate = (perSecond: number): string =>
  `${Math.round(perSecond).toLocaleString('en-US')} events/s`;
export const fmtRatio = (ratio: number, target: number): string =>
  `${ratio.toFixed(2)}x (target >= ${target}x: ${ratio >= target ? 'met' : 'NOT met'})`;

/** A SQLite file as every benchmark writes it: WAL, synchronous=FULL, the retaining opener. */
export function openBenchDatabase(path: string): Database.Database {
  const db = openDatabase(path);
  setPragmas(db, { journal_mode: 'WAL', synchronous: 'FULL' });
  return db;
}

/**
 * The raw baseline every benchmark compares with: a plain better-sqlite3 table
 * of events (WAL, synchronous=FULL), the columns a minimal event log needs and
 * nothing else, opened through the retaining opener (see database.ts).
 */
export function openRawEventTable(path: string): {
  db: Database.Database;
  insert: Database.Statement;
} {
  const db = openBenchDatabase(path);
  db.exec(`CREATE TABLE events (
    position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL, revision INTEGER NOT NULL,
    type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL,
    UNIQUE (stream, revision)) STRICT`);
  const insert = db.prepare(
    'INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  return { db, insert };
}
