// The metrics a process that runs projections shares with every other one,
// defined once: `provenant serve` (src/http/metrics.ts adds its request,
// ingest and append metrics) and `provenant projections run` (its own metrics
// listener, src/http/workerApp.ts) both register them here. A registry per
// instance, never prom-client's global one, so that two in one process (tests)
// never share counters. Each metric reads its source when scraped and is absent
// when that source does not run in this process.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProjectionStatus } from '../readModels/runner.js';
import type { WitnessCount } from '../transparency/witness/index.js';

/** A leadership lock this process stands for and whether it holds it now. */
export interface LockHeld {
  /** The lock's purpose, e.g. `projection:units` (PostgreSQL) or `merkle-log` (PostgreSQL, SQLite). */
  lock: string;
  held: boolean;
}

/** What the shared metrics read, each when its part runs in this process. */
export interface RunnerMetricSources {
  /** The projection runner's status (lag, parked events, checkpoint per projection). */
  projectionStatus?: (() => Promise<ProjectionStatus[]>) | undefined;
  /** Each checkpoint witness's counts, when the Merkle log follower of this process signs and posts. */
  witnessStatus?: (() => readonly WitnessCount[]) | undefined;
  /** The leadership locks this process stands for (PostgreSQL's; SQLite's signer lock). */
  leadership?: (() => readonly LockHeld[]) | undefined;
}

/**
 * A fresh registry with prom-client's Node.js process metrics under the
 * service's prefix, as its documentation names them (`provenant_process_*`,
 * `provenant_nodejs_*`).
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'provenant_' });
  return registry;
}

/** Registers the projection, checkpoint witness and leadership metrics in `registry`. */
export function registerRunnerMetrics(registry: Registry, sources: RunnerMetricSources): void {
  const { projectionStatus, witnessStatus, leadership } = sources;
  const statusGauge = (name: string, help: string, pick: (s: ProjectionStatus) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['projection'],
      registers: [registry],
      async collect() {
        if (projectionStatus === undefined) return;
        this.reset();
        for (const status of await projectionStatus())
          this.set({ projection: status.name }, pick(status));
      },
    });
  };
  statusGauge(
    'provenant_projection_lag',
    'Log positions not yet applied by the projection (head - checkpoint)',
    (s) => Number(s.lag),
  );
  statusGauge(
    'provenant_projection_parked',
    'Events parked (dead letters) of the projection',
    (s) => s.parked,
  );
  statusGauge('provenant_projection_checkpoint', 'Last log position the projection applied', (s) =>
    Number(s.checkpoint),
  );

  new Counter({
    name: 'provenant_checkpoint_witness_posts_total',
    help: 'Checkpoints handed to each witness (its URL origin and path) by outcome (posted: accepted, with tlog-witness cosigned, verified and recorded; failed; superseded by a newer one)',
    labelNames: ['witness', 'outcome'],
    registers: [registry],
    collect() {
      if (witnessStatus === undefined) return;
      this.reset();
      // Two URLs that differ only in what the name leaves out share a series: summed.
      for (const { witness, stats } of witnessStatus()) {
        this.inc({ witness, outcome: 'posted' }, stats.posted);
        this.inc({ witness, outcome: 'failed' }, stats.failed);
        this.inc({ witness, outcome: 'superseded' }, stats.superseded);
      }
    },
  });

  new Gauge({
    name: 'provenant_leadership_held',
    help: 'Whether this process holds the leadership lock (1) or stands by (0): projection:<name> per projection (PostgreSQL), read-models for the projection runner of a SQLite read-model file, merkle-log for the Merkle log follower and checkpoint signer (the PostgreSQL leader, the SQLite signer lock)',
    labelNames: ['lock'],
    registers: [registry],
    collect() {
      if (leadership === undefined) return;
      this.reset();
      for (const { lock, held } of leadership()) this.set({ lock }, held ? 1 : 0);
    },
  });
}
