// `provenant verify --export` and `provenant verify-export`, as child processes,
// on the consistency of the checkpoint a VSA recorded with the export's own: a
// consistent export passes log-consistency (with the trusted key, and with the
// export's own key, said so); an edited consistency proof, a removed one, and a
// checkpoint from a rewritten log (another root at its size) fail it, and
// verify-export names each with EXPORT_LOG_INCONSISTENT.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliRun } from '../support/cli.js';
import {
  CONSISTENT,
  REWRITTEN,
  editConsistencyProof,
  exportLogScenario,
  resealManifest,
  type ExportLogScenario,
} from '../support/exportLog.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-verify-export-log-'));
let s: ExportLogScenario;
const logKey = join(dir, 'log-key.txt');
const pub = join(dir, 'pub.pem');

interface JsonReport {
  checks: { name: string; outcome: string; code?: string }[];
  notes?: string[];
}

/** `provenant verify --export` of `unit`'s release VSA: each export or log-* check, with its code when it did not pass. */
async function verify(
  unit: string,
  out: string,
  ...more: string[]
): Promise<{ run: CliRun; checks: string[]; notes: string[] }> {
  const run = await runCli([
    'verify',
    ...['--unit', unit, '--stage', 'release', '--key', pub, '--export', out, '--json'],
    ...more,
  ]);
  const report = JSON.parse(run.stdout) as JsonReport;
  return {
    run,
    checks: report.checks
      .filter((c) => c.name.startsWith('log-') || c.name === 'export')
      .map((c) => `${c.name} ${c.outcome}${c.code === undefined ? '' : ` ${c.code}`}`),
    notes: report.notes ?? [],
  };
}

/** `provenant verify-export --json`: its exit code and problem codes. */
async function verifyExport(out: string): Promise<{ status: number; codes: string[] }> {
  const run = await runCli(['verify-export', out, '--json']);
  const result = JSON.parse(run.stdout) as { problems: { code: string }[] };
  return { status: run.status, codes: result.problems.map((p) => p.code) };
}

let counter = 0;
const exported = async (unit = CONSISTENT): Promise<string> => {
  const out = join(dir, `export-${++counter}`);
  await s.exportTo(unit, out);
  return out;
};

before(async () => {
  s = await exportLogScenario();
  writeFileSync(logKey, `${s.signer.verifierKey}\n`);
  writeFileSync(pub, s.f.pair.publicKeyPem);
});
after(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("an export's checkpoint against the one its attestation recorded", () => {
  it('passes a consistent export, with the trusted key or the export’s own (said so)', async () => {
    const out = await exported();
    const trusted = await verify(CONSISTENT, out, '--log-key', logKey);
    assert.equal(trusted.run.status, 0, trusted.run.stdout + trusted.run.stderr);
    assert.deepEqual(trusted.checks, [
      'export passed',
      'log-checkpoint passed',
      'log-inclusion passed',
      'log-consistency passed',
    ]);
    assert.ok(!trusted.notes.some((n) => /log key was taken from/.test(n)));

    const tofu = await verify(CONSISTENT, out);
    assert.equal(tofu.run.status, 0, tofu.run.stdout + tofu.run.stderr);
    assert.equal(tofu.checks.at(-1), 'log-consistency passed');
    assert.ok(tofu.notes.some((n) => /log key was taken from the export being checked/.test(n)));
    assert.deepEqual(await verifyExport(out), { status: 0, codes: [] });
  });

  const FAILED = [
    'export failed EXPORT_LOG_INCONSISTENT',
    'log-checkpoint passed',
    'log-inclusion passed',
    'log-consistency failed VERIFY_LOG_INCONSISTENT',
  ];

  it('fails an edited consistency proof', async () => {
    const out = await exported();
    editConsistencyProof(out);
    resealManifest(out);
    const res = await verify(CONSISTENT, out, '--log-key', logKey);
    assert.equal(res.run.status, 1, res.run.stdout + res.run.stderr);
    assert.deepEqual(res.checks, FAILED);
    assert.deepEqual(await verifyExport(out), { status: 1, codes: ['EXPORT_LOG_INCONSISTENT'] });
  });

  it('fails a removed consistency proof', async () => {
    const out = await exported();
    rmSync(join(out, 'transparency', 'consistency.jsonl'));
    resealManifest(out, (path) => path === 'transparency/consistency.jsonl');
    const res = await verify(CONSISTENT, out, '--log-key', logKey);
    assert.equal(res.run.status, 1, res.run.stdout + res.run.stderr);
    assert.deepEqual(res.checks, FAILED);
    assert.deepEqual(await verifyExport(out), { status: 1, codes: ['EXPORT_LOG_INCONSISTENT'] });
  });

  it('fails a checkpoint from a rewritten log (another root at its size)', async () => {
    const out = await exported(REWRITTEN);
    const res = await verify(REWRITTEN, out, '--log-key', logKey);
    assert.equal(res.run.status, 1, res.run.stdout + res.run.stderr);
    assert.deepEqual(res.checks, [
      'export failed EXPORT_LOG_INCONSISTENT',
      'log-checkpoint passed',
      'log-inclusion failed VERIFY_LOG_NOT_INCLUDED',
      'log-consistency failed VERIFY_LOG_INCONSISTENT',
    ]);
    const { status, codes } = await verifyExport(out);
    assert.equal(status, 1);
    assert.equal(codes[0], 'EXPORT_LOG_INCONSISTENT');
  });
});
