// `provenant projections run --metrics-port` on PostgreSQL, as child processes:
// the first worker wins every leadership lock (one per projection, and the
// Merkle log's) and reports `provenant_leadership_held` 1 for each, with every
// projection's lag back to 0; a second worker stands by and reports 0 for each;
// once the first is stopped (SIGTERM), the second takes every lock and its
// gauges turn to 1. Skipped, and reported so, without PROVENANT_TEST_POSTGRES_URL.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { projections } from '../../projections/index.js';
import { getPostgresEventStore } from '../../src/eventStore/postgres/index.js';
import { createStaticToken } from '../../src/security/tokens.js';
import { requirePostgres, testSchema } from '../support/postgres.js';
import { scrapeUntil, startWorker, type Worker } from '../support/worker.js';

const url = requirePostgres('projections run metrics on postgres');

const locks = [...projections.map((p) => `projection:${p.name}`), 'merkle-log'];
const heldBy = (samples: Map<string, number>): Record<string, number | undefined> =>
  Object.fromEntries(
    locks.map((lock) => [lock, samples.get(`provenant_leadership_held{lock="${lock}"}`)]),
  );
const all = (value: number): Record<string, number> =>
  Object.fromEntries(locks.map((lock) => [lock, value]));

if (url !== undefined)
  describe('projections run metrics on postgres', () => {
    const schema = testSchema(url, 'workermetrics');
    const dir = mkdtempSync(join(tmpdir(), 'provenant-pg-worker-metrics-'));
    const workers: Worker[] = [];
    after(() => {
      for (const w of workers) w.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    it('reports 1 for every lock the leader holds, 0 on the standby, and the takeover', async () => {
      const operator = createStaticToken();
      const principals = join(dir, 'principals.json');
      writeFileSync(
        principals,
        JSON.stringify({
          tokens: [{ name: 'prometheus', sha256: operator.sha256, roles: ['auditor'] }],
        }),
      );
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PROVENANT_STORE: 'postgres',
        PROVENANT_READ_MODELS: 'postgres',
        PROVENANT_POSTGRES_URL: url,
        PROVENANT_POSTGRES_SCHEMA: schema,
        PROVENANT_DATA_DIR: dir,
        PROVENANT_AUTH_FILE: principals,
      };
      const first = await startWorker(env);
      workers.push(first);
      // Alone, it wins every lock.
      await scrapeUntil(first.url, operator.token, (s) =>
        locks.every((lock) => s.get(`provenant_leadership_held{lock="${lock}"}`) === 1),
      );

      const store = getPostgresEventStore({ connectionString: url, schema });
      try {
        await store.append(
          'seed',
          Array.from({ length: 20 }, (_, i) => ({
            type: 'PipelineEventRecorded.v1',
            data: { cloudEvent: { specversion: '1.0', id: `e${i}`, source: 'ci', type: 'x.y' } },
          })),
        );
      } finally {
        await store.close();
      }
      const caughtUp = await scrapeUntil(first.url, operator.token, (s) =>
        projections.every(
          (p) =>
            s.get(`provenant_projection_lag{projection="${p.name}"}`) === 0 &&
            (s.get(`provenant_projection_checkpoint{projection="${p.name}"}`) ?? 0) >= 20,
        ),
      );
      assert.deepEqual(heldBy(caughtUp), all(1));

      // A second worker stands by for every lock the first holds.
      const second = await startWorker(env);
      workers.push(second);
      const standby = await scrapeUntil(second.url, operator.token, (s) =>
        locks.every((lock) => s.has(`provenant_leadership_held{lock="${lock}"}`)),
      );
      assert.deepEqual(heldBy(standby), all(0));
      // It reports the shared lag too (status read from the shared tables).
      assert.equal(standby.get('provenant_projection_lag{projection="pipelineEvents"}'), 0);

      // The leader stops: the standby takes every lock.
      assert.equal(await first.stop(), 0);
      const taken = await scrapeUntil(second.url, operator.token, (s) =>
        locks.every((lock) => s.get(`provenant_leadership_held{lock="${lock}"}`) === 1),
      );
      assert.deepEqual(heldBy(taken), all(1));
      assert.equal(await second.stop(), 0);
    });
  });
