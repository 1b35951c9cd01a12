// Leader election of projection workers on PostgreSQL (DESIGN.md §9): any
// number of processes run `provenant projections run` (or serve with inline
// projections); for each projection, the one that holds a session-level
// advisory lock on a dedicated connection runs it, the others stand by and
// try the lock again every `pollMs`.
//
// The leader runs every read-model transaction of its projection on that same
// connection: if the session ends (the process dies, the connection is cut),
// PostgreSQL releases the lock and aborts the open transaction together, so a
// deposed leader can commit nothing more, and the standby that takes the lock
// resumes from the last committed checkpoint. A killed leader's socket closes
// at once, so a standby takes over within `pollMs` (default 1 s).
import pg from 'pg';
import type { EventStore } from '../../eventStore/types.js';
import { lockKey } from '../../postgres/index.js';
import type { Log } from '../applyBatch.js';
import type { ProjectionDefinition } from '../projection.js';
import { createProjectionRunner, type ProjectionRunner, type ProjectionStatus } from '../runner.js';
import type { PostgresReadModelStore } from './readModelStore.js';

export interface ElectedProjectionsOptions {
  eventStore: EventStore;
  readModels: PostgresReadModelStore;
  projections: readonly ProjectionDefinition[];
  /** How often a standby tries to take the lead (ms, default 1000). */
  pollMs?: number;
  log?: Log;
}

export interface ElectedProjections {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Checkpoint and lag of every projection; `state` is this process's loop (`stopped` on a standby). */
  status(): Promise<ProjectionStatus[]>;
  /** Names of the projections this process leads now. */
  leading(): string[];
}

export function electProjectionLeaders(options: ElectedProjectionsOptions): ElectedProjections {
  const { eventStore, readModels } = options;
  const log: Log = options.log ?? (() => undefined);
  const pollMs = options.pollMs ?? 1000;
  const schema = readModels.schema;
  let stopping = false;
  const leaders = new Map<string, ProjectionRunner>();
  const candidates: Promise<void>[] = [];
  const wakes = new Set<() => void>();
  // Status for every projection from the shared tables, whoever leads.
  const observer = createProjectionRunner({
    eventStore,
    readModels,
    projections: options.projections,
  });

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        wakes.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakes.add(done);
    });

  /** Stands for one projection until stopped: takes the lead when it can, runs, steps down when the session ends. */
  async function candidate(definition: ProjectionDefinition): Promise<void> {
    const key = lockKey(schema, `projection:${definition.name}`);
    while (!stopping) {
      const client = new pg.Client({
        connectionString: readModels.options.connectionString,
        application_name: `provenant-leader-${definition.name}`.slice(0, 63),
        options: `-c search_path=${schema}`,
        connectionTimeoutMillis: 5000,
        keepAlive: true,
      });
      let ended = false;
      let lost!: () => void;
      const sessionEnded = new Promise<void>((resolve) => {
        lost = () => {
          ended = true;
          resolve();
        };
      });
      client.on('error', () => lost());
      client.on('end', () => lost());
      try {
        await client.connect();
        while (!stopping) {
          const { rows } = await client.query<{ ok: boolean }>(
            'SELECT pg_try_advisory_lock($1) AS ok',
            [key],
          );
          if (rows[0]?.ok === true) break;
          await Promise.race([sleep(pollMs), sessionEnded]);
          if (ended) throw new Error('the connection to PostgreSQL ended');
        }
        if (stopping) break;
        const runner = createProjectionRunner({
          eventStore,
          readModels: readModels.pinnedTo(client),
          projections: [definition],
          log,
        });
        leaders.set(definition.name, runner);
        log('info', 'leading projection', { projection: definition.name });
        await runner.start();
        await Promise.race([sessionEnded, new Promise<void>((resolve) => wakes.add(resolve))]);
        await runner.stop();
        leaders.delete(definition.name);
        if (!stopping)
          log('warn', 'lost the lead of a projection; standing by', {
            projection: definition.name,
          });
      } catch (error) {
        leaders.delete(definition.name);
        if (!stopping)
          log('warn', 'projection leadership attempt failed; retrying', {
            projection: definition.name,
            error: error instanceof Error ? error.message : String(error),
          });
      } finally {
        await client.end().catch(() => undefined);
      }
      if (!stopping) await sleep(pollMs);
    }
  }

  return {
    start() {
      stopping = false;
      for (const definition of options.projections) candidates.push(candidate(definition));
      return Promise.resolve();
    },
    async stop() {
      stopping = true;
      for (const wake of [...wakes]) wake();
      await Promise.all([...leaders.values()].map((runner) => runner.stop()));
      for (const wake of [...wakes]) wake();
      await Promise.all(candidates.splice(0));
    },
    async status() {
      const statuses = await observer.status();
      const own = new Map<string, ProjectionStatus>();
      for (const [name, runner] of leaders)
        for (const s of await runner.status()) if (s.name === name) own.set(name, s);
      return statuses.map((s) => own.get(s.name) ?? s);
    },
    leading: () => [...leaders.keys()],
  };
}
