// The raw baseline of `bench projections`: every row of the log read and its data
// and metadata parsed, with no port and no projection. Run as its own process
// (`node --import tsx bench/projectionsRawRead.ts <path>`, printing
// `{"seconds":…,"cpuSeconds":…}`: wall and CPU time of the timed read)
// for the reason the log is filled in one (projectionsLog.ts): reading a million
// rows leaves a heap of a few hundred MB in the RSS of the process that read
// them, which would be counted as the rebuild's peak RSS.
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../src/eventStore/sqlite/database.js';

/** Reads every row of the log file and parses data and metadata: the floor of any replay. */
export function rawRead(path: string): number {
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

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [path] = process.argv.slice(2);
  if (path === undefined) {
    console.error('usage: node --import tsx bench/projectionsRawRead.ts <log path>');
    process.exit(2);
  }
  rawRead(path); // once before, so that the timed read starts warm, as the rebuild does
  const started = performance.now();
  const cpu = process.cpuUsage();
  rawRead(path);
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = (used.user + used.system) / 1e6;
  process.stdout.write(`${JSON.stringify({ seconds, cpuSeconds })}\n`);
}
