// The benchmarks still run and still report what the issues ask for. A smoke
// test at a tiny scale: it checks the shape of `npm run bench -- --json`, never
// speed (speed is measured by `npm run bench`, not in tests).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const run = promisify(execFile);
const main = fileURLToPath(new URL('./main.ts', import.meta.url));

async function bench(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', main, ...args], {
    // A bound, not a speed check: `all` at this scale takes ~40 s of CPU, and
    // took 108 s of wall time alone on a machine loaded ~10x.
    timeout: 300_000,
    maxBuffer: 4 * 1024 * 1024,
  });
}

// The three cases are independent processes, so they run side by side: the
// file takes as long as its longest case (`all`), not as the three together.
describe('npm run bench', { concurrency: true }, () => {
  it('reports every benchmark as one JSON object of positive figures, ratios under *Ratio', async () => {
    const { stdout } = await bench('all', '--json', '--scale', '0.02');
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
    assert.equal(report.node, process.version);
    const expected: Record<string, string[]> = {
      append: ['batch100Ratio', 'groupCommitRatio', 'batch100InlineIntegrityRatio'],
      ingest: [
        'singleIngestRatio',
        'batchIngestRatio',
        'singleP99Ms',
        'bareSingleEventsPerSec',
        'batchParseUsPerEvent',
        'batchPartsUsPerEvent',
        'batchCeilingEventsPerSec',
        'singleVsRawRatio',
        'batchVsRawRatio',
      ],
      'ingest-parse': ['binaryUsPerEvent', 'structuredUsPerEvent'],
      growth: [
        'smallLogEvents',
        'largeLogEvents',
        'ingestGrowthRatio',
        'unitStatusGrowthRatio',
        'revokeRecentGrowthRatio',
        'revokeUnknownGrowthRatio',
        'smallFirstRequestMs',
        'largeFirstRequestMs',
        'firstRequestGrowthRatio',
        'unitReadGrowthRatio',
        'unitRecordGrowthRatio',
      ],
      provenance: ['buildSignMs', 'signRatio', 'verifyRatio'],
      projections: [
        'logEvents',
        'rawReadEventsPerSec',
        'rebuildEventsPerSec',
        'rebuildRatio',
        'rebuildCpuRatio',
        'rebuildPeakRssMb',
        'asOfUnitEvents',
        'asOfMedianMs',
        'asOfRawReadMs',
        'unitReadRatio',
        'unitReadCpuRatio',
      ],
      transparency: ['appendPerSec', 'proofMs', 'verifyRatio'],
    };
    const growth = report['growth'] as Record<string, number> | undefined;
    assert.equal(growth?.['largeLogEvents'], 100 * 200 + 3, 'growth: 100x the small log');
    for (const [name, keys] of Object.entries(expected)) {
      const figures = report[name] as Record<string, unknown> | undefined;
      assert.ok(figures, `no figures for ${name}`);
      for (const key of keys) assert.ok(key in figures, `${name} lacks ${key}`);
      for (const [key, value] of Object.entries(figures))
        assert.ok(
          typeof value === 'number' && Number.isFinite(value) && value > 0,
          `${name}.${key} is ${String(value)}`,
        );
    }
  });

  it('prints a human table by default and says what it compares in --help', async () => {
    const table = await bench('append', '--scale', '0.01');
    assert.match(table.stdout, /batch100Ratio\s+\d+\.\d\dx \(target >= 0\.7x: (met|NOT met)\)/);
    assert.match(table.stdout, /groupCommitRatio\s+\d+\.\d\dx \(target >= 3x/);
    const help = await bench('--help');
    assert.match(
      help.stdout,
      /usage: npm run bench -- \[append\|ingest\|ingest-parse\|growth\|provenance\|projections\|transparency\|all\]/,
    );
    assert.match(help.stdout, /growth\s+API operations/);
    assert.match(help.stdout, /projections\s+rebuilding every read model/);
  });

  it('refuses an unknown benchmark and a bad scale, exiting 2', async () => {
    for (const args of [
      ['nope'],
      ['append', '--scale', '0'],
      ['append', '--scale', '-1'],
      ['--fast'],
    ]) {
      const failed = await bench(...args).then(
        () => undefined,
        (error: unknown) => error as { code?: number; stderr?: string },
      );
      assert.equal(failed?.code, 2, `exit code for ${args.join(' ')}`);
      assert.match(
        failed.stderr ?? '',
        /unknown benchmark|--scale must be a positive number|argument is ambiguous|Unknown option/,
      );
      assert.doesNotMatch(failed.stderr ?? '', /\n\s+at /, 'no stack trace');
    }
  });
});
