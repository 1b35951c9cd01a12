// `provenant projections run --metrics-port` as a child process on a SQLite
// store: GET /metrics serves lag, parked events and checkpoint per projection
// until the lag is 0 (again after more events are appended while it runs), the
// checkpoint witness posts of the Merkle log follower it runs (by witness),
// and the SQLite signer lock it holds (leadership held 1, lock="merkle-log": it
// signs, being the only process); /metrics needs the operate
// permission, /healthz none; SIGTERM closes the listener with the runner. A
// bad port or one in use stops it at start with exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projections } from '../../projections/index.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventToAppend } from '../../src/eventStore/types.js';
import { createStaticToken } from '../../src/security/tokens.js';
import { cliArgs } from '../support/cli.js';
import { scrape, scrapeUntil, startWorker, type Worker } from '../support/worker.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-worker-metrics-'));
const dataDir = join(dir, 'data');
const auditor = createStaticToken();
const reader = createStaticToken();
let witness: Server;
let witnessUrl = '';
let witnessPosts = 0;
let worker: Worker | undefined;

before(async () => {
  witness = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      witnessPosts++;
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => witness.listen(0, '127.0.0.1', resolve));
  const address = witness.address();
  if (typeof address !== 'object' || address === null) throw new Error('no witness address');
  witnessUrl = `http://127.0.0.1:${address.port}/witness`;
});
after(async () => {
  worker?.child.kill('SIGKILL');
  await new Promise((resolve) => witness.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const pipelineEvents = (from: number, count: number): EventToAppend[] =>
  Array.from({ length: count }, (_, i) => ({
    type: 'PipelineEventRecorded.v1',
    data: { cloudEvent: { specversion: '1.0', id: `e${from + i}`, source: 'ci', type: 'x.y' } },
  }));

async function append(stream: string, events: EventToAppend[]): Promise<void> {
  const store = getSQLiteEventStore({ path: join(dataDir, 'provenant.db') });
  try {
    await store.append(stream, events);
  } finally {
    await store.close();
  }
}

const lagOf = (samples: Map<string, number>, name: string): number | undefined =>
  samples.get(`provenant_projection_lag{projection="${name}"}`);

describe('projections run --metrics-port', () => {
  it('serves per-projection lag, parked events and witness posts until stopped', async () => {
    mkdirSync(dataDir, { recursive: true });
    // 30 pipeline events, and one gate verdict that names no unit: parked by the
    // projections that need a unit (gateStatus, unitSummary).
    await append('seed', pipelineEvents(0, 30));
    await append('broken', [{ type: 'GatePassed.v1', data: { gateId: 'g', verdict: 'passed' } }]);
    const principals = join(dir, 'principals.json');
    writeFileSync(
      principals,
      JSON.stringify({
        tokens: [
          { name: 'prometheus', sha256: auditor.sha256, roles: ['auditor'] },
          { name: 'someone', sha256: reader.sha256, roles: ['reader'] },
        ],
      }),
    );
    worker = await startWorker({
      ...process.env,
      PROVENANT_DATA_DIR: dataDir,
      PROVENANT_AUTH_FILE: principals,
      PROVENANT_CHECKPOINT_EVERY: '10',
      PROVENANT_CHECKPOINT_WITNESS_URL: witnessUrl,
    });
    const { url } = worker;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

    // Who may read what: /healthz anyone, /metrics the operate permission only.
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal(await fetch(`${url}/metrics`).then((r) => r.status), 401);
    const forbidden = await fetch(`${url}/metrics`, {
      headers: { authorization: `Bearer ${reader.token}` },
    });
    assert.equal(forbidden.status, 403);

    const caughtUp = (samples: Map<string, number>, atLeast: number): boolean =>
      projections.every(
        (p) =>
          lagOf(samples, p.name) === 0 &&
          (samples.get(`provenant_projection_checkpoint{projection="${p.name}"}`) ?? 0) >= atLeast,
      );
    let samples = await scrapeUntil(url, auditor.token, (s) => caughtUp(s, 31));
    const parked = Object.fromEntries(
      projections.map((p) => [
        p.name,
        samples.get(`provenant_projection_parked{projection="${p.name}"}`),
      ]),
    );
    assert.deepEqual(parked, {
      receiptsLedger: 0,
      gateStatus: 1,
      stageStatus: 0,
      unitSummary: 1,
      pipelineEvents: 0,
      attestationIndex: 0,
    });
    // It holds the SQLite runner and signer locks (no other process runs): both series, 1.
    assert.deepEqual(
      [...samples.entries()].filter(([k]) => k.startsWith('provenant_leadership_held{')),
      [
        ['provenant_leadership_held{lock="read-models"}', 1],
        ['provenant_leadership_held{lock="merkle-log"}', 1],
      ],
    );
    assert.ok(samples.has('provenant_process_start_time_seconds'));
    assert.ok(samples.has('provenant_nodejs_eventloop_lag_seconds'));

    // The Merkle log follower runs here: its checkpoints reach the witness, and are counted.
    const posts = (outcome: string) =>
      `provenant_checkpoint_witness_posts_total{witness="${witnessUrl}",outcome="${outcome}"}`;
    samples = await scrapeUntil(url, auditor.token, (s) => (s.get(posts('posted')) ?? 0) >= 1);
    assert.ok(witnessPosts >= 1);
    assert.equal(samples.get(posts('failed')), 0);

    // Events appended while it runs: the lag follows, and returns to 0.
    await append('more', pipelineEvents(100, 50));
    samples = await scrapeUntil(url, auditor.token, (s) => caughtUp(s, 81));
    assert.ok(
      (samples.get('provenant_projection_checkpoint{projection="pipelineEvents"}') ?? 0) >= 81,
    );

    // SIGTERM stops the runner and the listener with it.
    assert.equal(await worker.stop(), 0);
    assert.match(worker.log, /stopped/);
    await assert.rejects(scrape(url, auditor.token));
  });

  it('refuses a bad metrics port, and a port in use, before running anything (exit 2)', () => {
    const env = { ...process.env, PROVENANT_DATA_DIR: join(dir, 'refused') };
    const run = (...args: string[]) =>
      spawnSync(process.execPath, cliArgs('projections', 'run', ...args), {
        encoding: 'utf8',
        env,
        timeout: 60_000,
      });
    const bad = run('--metrics-port', '70000');
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /CONFIG_INVALID: PROVENANT_METRICS_PORT/);
    const taken = new URL(witnessUrl).port; // the witness listens there
    const inUse = run('--metrics-port', taken);
    assert.equal(inUse.status, 2, inUse.stderr);
    assert.equal(
      inUse.stderr.trim().split('\n').at(-1),
      `provenant: SERVER_CANNOT_LISTEN: cannot listen on 127.0.0.1:${taken}: the port is in use (another process listens there: stop it, or choose another port); the address is set by PROVENANT_METRICS_HOST (--metrics-host) and PROVENANT_METRICS_PORT (--metrics-port)`,
    );
    assert.doesNotMatch(inUse.stderr, /projections running/);
  });
});
