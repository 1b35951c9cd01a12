// Leader election of projection workers on PostgreSQL (DESIGN.md §9): any
// number of processes run `provenant projections run` (or serve with inline
// projections); for each projection, the one that holds its advisory lock
// (src/postgres/leadership.ts) runs it, the others stand by.
//
// The leader runs every read-model transaction of its projection on the lock's
// own connection: if the session ends (the process dies, the connection is
// cut), PostgreSQL releases the lock and aborts the open transaction together,
// so a deposed leader can commit nothing more, and the standby that takes the
// lock resumes from the last committed checkpoint.
import type { EventStore } from '../../eventStore/types.js';
import { ProvenantError } from '../../errors.js';
import { standForLeadership, whileNoLeader, type Leadership } from '../../postgres/index.js';
import type { Log } from '../applyBatch.js';
import type { ProjectionDefinition } from '../projection.js';
import { createProjectionRunner, type ProjectionRunner, type ProjectionStatus } from '../runner.js';
import type { PostgresReadModelStore } from './readModelStore.js';

/** The leadership lock of one projection. */
const projectionPurpose = (name: string): string => `projection:${name}`;

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
  /** Every lock this process stands for (`projection:<name>`) and whether it holds it now. */
  locks(): { lock: string; held: boolean }[];
}

export function electProjectionLeaders(options: ElectedProjectionsOptions): ElectedProjections {
  const { eventStore, readModels } = options;
  const log: Log = options.log ?? (() => undefined);
  const leaders = new Map<string, ProjectionRunner>();
  let candidates: Leadership[] = [];
  // Status for every projection from the shared tables, whoever leads.
  const observer = createProjectionRunner({
    eventStore,
    readModels,
    projections: options.projections,
  });

  /** Stands for one projection: runs it on the lock's session while leading. */
  const candidate = (definition: ProjectionDefinition): Leadership =>
    standForLeadership({
      connectionString: readModels.options.connectionString,
      schema: readModels.schema,
      purpose: projectionPurpose(definition.name),
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      log,
      async lead(session) {
        const runner = createProjectionRunner({
          eventStore,
          readModels: readModels.pinnedTo(session),
          projections: [definition],
          log,
        });
        leaders.set(definition.name, runner);
        try {
          await runner.start();
        } catch (error) {
          leaders.delete(definition.name);
          throw error;
        }
        return {
          async stop() {
            leaders.delete(definition.name);
            await runner.stop();
          },
        };
      },
    });

  return {
    start() {
      if (candidates.length === 0) candidates = options.projections.map(candidate);
      return Promise.resolve();
    },
    async stop() {
      await Promise.all(candidates.splice(0).map((c) => c.stop()));
    },
    async status() {
      const statuses = await observer.status();
      const own = new Map<string, ProjectionStatus>();
      for (const [name, runner] of leaders)
        for (const s of await runner.status()) if (s.name === name) own.set(name, s);
      return statuses.map((s) => own.get(s.name) ?? s);
    },
    leading: () => [...leaders.keys()],
    locks: () => candidates.map((c) => ({ lock: c.purpose, held: c.leading() })),
  };
}

/**
 * Runs `fn` (a `projections rebuild`) while no leader can run the projections
 * named: holds each one's lock meanwhile (a candidate that tries waits until
 * `fn` has ended), and refuses with READ_MODEL_RUNNER_RUNNING when a process
 * leads one of them now.
 */
export async function whileNoProjectionLeaders<T>(
  readModels: Pick<PostgresReadModelStore, 'options' | 'schema'>,
  names: readonly string[],
  fn: () => Promise<T>,
): Promise<T> {
  const [name, ...others] = names;
  if (name === undefined) return fn();
  const held = await whileNoLeader(
    {
      connectionString: readModels.options.connectionString,
      schema: readModels.schema,
      purpose: projectionPurpose(name),
    },
    () => whileNoProjectionLeaders(readModels, others, fn),
  );
  if (held === undefined)
    throw new ProvenantError(
      'READ_MODEL_RUNNER_RUNNING',
      `A process runs the projection ${name} on these read models (it holds the ${projectionPurpose(name)} lock): stop every provenant serve with inline projections and every projections run on them first`,
    );
  return held.value;
}
