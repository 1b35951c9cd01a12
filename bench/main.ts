// Benchmark entry point: `npm run bench -- [append|ingest|ingest-parse|growth|all] [--json] [--scale N]`,
// and `npm run bench -- postgres` (needs a server, so not part of `all`).
// Every figure is measured against a raw baseline in the same run; ratios are
// printed under keys ending in `Ratio`.
import { parseArgs } from 'node:util';
import type { BenchContext } from './support.js';

type Bench = (ctx: BenchContext) => Promise<Record<string, number>>;
/**
 * Each benchmark's module is loaded only when it runs: together they pull in
 * fastify, the stores and sigstore, about a second of CPU at every start, which
 * --help and a refused argument have no use for.
 */
const benches: Record<string, () => Promise<Bench>> = {
  append: async () => (await import('./append.js')).benchAppend,
  ingest: async () => (await import('./ingest.js')).benchIngest,
  'ingest-parse': async () => (await import('./ingestParse.js')).benchIngestParse,
  growth: async () => (await import('./growth.js')).benchGrowth,
  provenance: async () => (await import('./provenance.js')).benchProvenance,
  projections: async () => (await import('./projections.js')).benchProjections,
  transparency: async () => (await import('./transparency.js')).benchTransparency,
};
/** Benchmarks that need an external server: run by name only, never by `all`. */
const serverBenches: Record<string, () => Promise<Bench>> = {
  postgres: async () => (await import('./postgres.js')).benchPostgres,
};

const parsed = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        scale: { type: 'string', default: '1' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    // Unknown or malformed options: say which, not a stack trace.
    console.error(`${error instanceof Error ? error.message : String(error)}\nSee --help.`);
    process.exit(2);
  }
})();
const { values, positionals } = parsed;
if (values.help) {
  console.log(`usage: npm run bench -- [${Object.keys(benches).join('|')}|all] [--json] [--scale N]
       npm run bench -- postgres [--json] [--scale N]   (needs a PostgreSQL server; not in 'all')

  append        the port's SQLite appends vs raw better-sqlite3 inserts (batches of 100;
                32 concurrent single-event appends vs one row per transaction)
  ingest        POST /v1/events over loopback (binary and batch mode) vs ceilings from the
                same run: a bare fastify route (single), and bare route + parse/validate +
                raw 100-row inserts summed per event (batch)
  ingest-parse  parsing and validating CloudEvents alone vs JSON.parse of the same bytes
  growth        API operations (ingest, revocation, unit reads, first request after a
                start) on a 1,000,000-event log vs a 10,000-event one, and on a unit of
                10,000 receipts vs one of 100 (fill progress on stderr)
  provenance    provenance build + sign for a 1,000-receipt unit (ms); signDsse vs raw
                crypto.sign and verifyBundle vs raw crypto.verify of the same bytes
  projections   rebuilding every read model over a 1,000,000-event log vs a raw read +
                JSON.parse of it (rate, peak RSS); asOf on a unit of 10,000 events;
                GET /v1/units/{key} vs a bare fastify route with the same JSON
  postgres      (a PostgreSQL server: PROVENANT_BENCH_POSTGRES_URL, default the local test
                server) 32 concurrent appends on the PostgreSQL log vs raw pg INSERTs;
                rebuilding every read model into PostgreSQL vs SQLite (1,000,000 events);
                ingest with two API node processes vs one
  transparency  Merkle log: leaf appends/s (memory and SQLite), inclusion proofs at
                1,000,000 leaves (ms), log verify over 100,000 events vs a raw read +
                SHA-256 of the same rows

  --json     print one JSON object with every figure (ratios end in "Ratio"; the
             ones the table marks informative are not targets)
  --scale N  multiply event counts (and growth's log and unit sizes) by N (e.g. 0.1 for a
             quick run)
  --only a,b run only these parts of a benchmark that has parts (projections: rebuild,
             asof, unit-read; without rebuild the bulk log is not filled)`);
  process.exit(0);
}
const scale = Number(values.scale);
if (!Number.isFinite(scale) || scale <= 0) {
  console.error(`--scale must be a positive number, got ${values.scale}`);
  process.exit(2);
}
const names =
  positionals.length === 0 || positionals.includes('all') ? Object.keys(benches) : positionals;
const known = { ...benches, ...serverBenches };
for (const name of names)
  if (!(name in known)) {
    console.error(`unknown benchmark '${name}'; known: ${Object.keys(known).join(', ')}`);
    process.exit(2);
  }
const ctx: BenchContext = {
  json: values.json,
  scale,
  ...(values.only === undefined ? {} : { only: new Set(values.only.split(',')) }),
  log: (line) => console.log(line),
};
const figures: Record<string, Record<string, number>> = {};
for (const name of names) {
  const bench = await (known[name] as () => Promise<Bench>)();
  figures[name] = await bench(ctx);
}
if (values.json) {
  const flat = names.length === 1 ? figures[names[0] as string] : figures;
  console.log(JSON.stringify({ node: process.version, ...flat }));
}
