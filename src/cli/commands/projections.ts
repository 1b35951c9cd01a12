// `provenant projections ...`: run the projection runner as its own process,
// see where each read model stands, rebuild read models from the log, and
// list or retry parked (dead-letter) events.
import { Command, InvalidArgumentError } from 'commander';
import { projections } from '../../../projections/index.js';
import {
  createMerkleFollower,
  createProjectionWorkers,
  locksOf,
  standingByOnReadModels,
  openEventStore,
  openReadModels,
  openTransparency,
  prepareBackends,
  whileNoProjectionRunner,
} from '../../composition.js';
import type { EventStore } from '../../eventStore/types.js';
import { loadConfig } from '../../config.js';
import { isProvenantError, ProvenantError } from '../../errors.js';
import type { ReadModelStore } from '../../readModels/port.js';
import {
  createProjectionRunner,
  type ProjectionRunner,
  type ProjectionStatus,
  type RebuildResult,
} from '../../readModels/runner.js';
import { createMetricsListener, type MetricsListener } from '../metricsListener.js';
import { count, envHelp, exitCodesHelp } from '../shared.js';
import { progressReporter, rebuildByRequest } from './projectionsRebuild.js';

interface JsonOption {
  json?: boolean;
}

const toJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);

const commonHelp = (codes: readonly (readonly [number, string])[]): string => `
${exitCodesHelp(codes)}

${envHelp()}
`;

/** Opens the log and the read models, runs `fn` with a runner, closes everything. */
async function withRunner<T>(
  fn: (runner: ProjectionRunner, readModels: ReadModelStore, store: EventStore) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const { store } = await openEventStore(config);
  const { readModels } = await openReadModels(config, (message) =>
    console.error(`warning: ${message}`),
  );
  const runner = createProjectionRunner({
    eventStore: store,
    readModels,
    projections,
    log: (level, message, fields) =>
      console.error(`${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
  });
  try {
    return await fn(runner, readModels, store);
  } finally {
    await runner.stop();
    await readModels.close();
    await store.close();
  }
}

interface RunOptions {
  metricsPort?: string;
  metricsHost?: string;
}

function runCommand(): Command {
  return new Command('run')
    .summary('Run every projection until SIGTERM or SIGINT')
    .description(
      `Follows the log from each projection's checkpoint and keeps the read models
current, until SIGTERM or SIGINT; then the in-flight batches commit and it stops.
Use it with PROVENANT_PROJECTIONS=off on the servers, or anywhere else: it shares
nothing with the API but the log and the read-model database. It also runs the
Merkle log follower and checkpoint signer. With a metrics port it serves
GET /metrics (lag and parked events per projection, witness posts per witness,
leadership locks held, the SQLite signer lock too; the operate permission) and GET /healthz. Options
override the environment.`,
    )
    .option(
      '--metrics-port <port>',
      'serve /metrics and /healthz on this port, 0 for a free one (overrides PROVENANT_METRICS_PORT)',
    )
    .option(
      '--metrics-host <host>',
      'address of the metrics listener (overrides PROVENANT_METRICS_HOST; default 127.0.0.1)',
    )
    .addHelpText(
      'after',
      commonHelp([
        [0, 'stopped cleanly on SIGTERM or SIGINT'],
        [2, 'usage or configuration error'],
      ]),
    )
    .action(async (options: RunOptions) => {
      const config = loadConfig({
        ...process.env,
        ...(options.metricsPort === undefined
          ? {}
          : { PROVENANT_METRICS_PORT: options.metricsPort }),
        ...(options.metricsHost === undefined
          ? {}
          : { PROVENANT_METRICS_HOST: options.metricsHost }),
      });
      const { store } = await openEventStore(config, { create: true });
      const { readModels } = await openReadModels(config, (message) =>
        console.error(`warning: ${message}`),
      );
      const log = (level: string, message: string, fields?: object) =>
        console.error(`${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
      // With read models on PostgreSQL, each projection runs in the one worker that wins its lock.
      const workers = await createProjectionWorkers({
        eventStore: store,
        readModels,
        projections,
        log,
      });
      // The Merkle log of `$all` runs beside the projections (docs/transparency.md);
      // on PostgreSQL, in the one process elected among all nodes and workers.
      const transparency = await openTransparency(config, store);
      const follower = await createMerkleFollower(config, store, transparency, log);
      let metrics: MetricsListener | undefined;
      try {
        metrics = createMetricsListener(
          config,
          {
            projectionStatus: () => workers.status(),
            witnessStatus: () => follower.witnesses(),
            leadership: locksOf(workers, follower),
          },
          (message) => log('warn', message),
        );
        await prepareBackends([store, readModels, transparency.tree], (message) =>
          log('warn', message),
        );
        // Listening first: a port in use refuses to start before any work.
        if (metrics !== undefined) console.error(`metrics listening on ${await metrics.listen()}`);
        await workers.start();
        await follower.start();
        const names = projections.map((p) => p.name).join(', ');
        console.error(
          standingByOnReadModels(workers)
            ? `projections standing by: ${names} (another process runs them on these read models); merkle log started`
            : `projections running: ${names}, merkle log`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGTERM', () => resolve());
          process.once('SIGINT', () => resolve());
        });
        console.error('stopping: finishing in-flight batches');
      } finally {
        await metrics?.close(); // before the stores it reads close
        await follower.stop();
        await transparency.tree.close();
        await workers.stop();
        await readModels.close();
        await store.close();
      }
      console.error('stopped');
      process.exitCode = 0;
    });
}

/** A rebuild under way, as the status table shows it: its version and how far its new tables are. */
const rebuildText = (s: ProjectionStatus): string =>
  s.rebuild === undefined ? '-' : `v${s.rebuild.version} at ${s.rebuild.checkpoint} of ${s.head}`;

function statusCommand(): Command {
  return new Command('status')
    .summary("Each projection's checkpoint, lag and parked events")
    .description(
      `Prints, per projection: its checkpoint, the log's head position, the lag between
them, how many events are parked in the dead-letter table, and a rebuild under
way out of sight (its version and the position its new tables reached; the
current tables serve meanwhile). The state is that of this process, which runs
no projection: see the lag instead.`,
    )
    .option('--json', 'print the status as JSON')
    .addHelpText(
      'after',
      commonHelp([
        [0, 'printed'],
        [2, 'usage or configuration error'],
      ]),
    )
    .action(async (options: JsonOption) => {
      await withRunner(async (runner) => {
        const status = await runner.status();
        if (options.json) return console.log(toJson(status));
        console.log('projection        checkpoint        head         lag  parked  rebuild');
        for (const s of status)
          console.log(
            `${s.name.padEnd(16)} ${String(s.checkpoint).padStart(11)} ${String(s.head).padStart(11)} ${String(s.lag).padStart(11)} ${String(s.parked).padStart(7)}  ${rebuildText(s)}`,
          );
      });
    });
}

/** A projection's name, checked before any lock is taken or the store opened. */
const parseName = (value: string): string => {
  const names = projections.map((p) => p.name);
  if (!names.includes(value))
    throw new ProvenantError(
      'READ_MODEL_UNKNOWN_PROJECTION',
      `no projection is named '${value}' (one of ${names.join(', ')})`,
    );
  return value;
};

function rebuildCommand(): Command {
  return new Command('rebuild')
    .summary('Rebuild read models from the log, out of sight')
    .description(
      `Replays the log from position 0 into new tables for the named read model (every
one without a name), showing progress, then swaps them in, in one transaction.
Meanwhile the current tables keep answering queries with their last state and
position (they are not updated during the rebuild). Killed midway, the current
tables stay as they were, and the next 'projections run' (or a server with
PROVENANT_PROJECTIONS=inline) finishes the rebuild; running this command again
starts it over.

When another process runs the projections (a server with
PROVENANT_PROJECTIONS=inline, or 'projections run': it holds the SQLite file's
runner lock, or on PostgreSQL the projection's leadership lock), nothing needs
to stop: the rebuild is requested of that process, which begins it within a
second and swaps it in, and this command shows its progress until then
(Ctrl-C ends only the wait). A rebuild of the projection already under way is
waited for, not begun again. If no runner begins it within 30 s (one still
catching up with the log begins it once caught up) it exits 2 with
READ_MODEL_REBUILD_NOT_TAKEN; the request stays, for that runner or the next.`,
    )
    .argument('[name]', `one projection: ${projections.map((p) => p.name).join(', ')}`, parseName)
    .option('--json', 'print the results as JSON (no progress)')
    .addHelpText(
      'after',
      commonHelp([
        [0, 'rebuilt'],
        [
          2,
          'usage or configuration error, an unknown projection, or no runner began a requested rebuild (READ_MODEL_REBUILD_NOT_TAKEN)',
        ],
      ]),
    )
    .action(async (name: string | undefined, options: JsonOption) => {
      await withRunner(async (runner, readModels, eventStore) => {
        // Every read model at once: one read of the log feeds them all.
        const label = name ?? 'all projections';
        const names = name === undefined ? projections.map((p) => p.name) : [name];
        const rebuildHere = () =>
          whileNoProjectionRunner(readModels, names, async () => {
            const progress = progressReporter(label, options.json === true);
            try {
              return await runner.rebuild(name, { onProgress: progress.update });
            } finally {
              progress.stop();
            }
          });
        let result: RebuildResult;
        try {
          result = await rebuildHere();
        } catch (error) {
          if (!isProvenantError(error) || error.code !== 'READ_MODEL_RUNNER_RUNNING') throw error;
          const results = await rebuildByRequest({
            label,
            definitions: projections.filter((p) => names.includes(p.name)),
            json: options.json === true,
            readModels,
            eventStore,
          });
          if (options.json) console.log(toJson(results));
          return;
        }
        const { parkedBy, ...common } = result;
        const results = names.map((one) => ({ name: one, ...common, parked: parkedBy[one] ?? 0 }));
        if (!options.json)
          console.log(
            `${label}: rebuilt from ${count(result.processed, 'event')} in ${result.durationMs} ms${result.parked > 0 ? `, ${result.parked} parked` : ''}`,
          );
        if (options.json) console.log(toJson(results));
      });
    });
}

const parseId = (value: string): number => {
  if (!/^[1-9]\d{0,15}$/.test(value)) throw new InvalidArgumentError('must be a positive integer.');
  return Number(value);
};

function dlqCommand(): Command {
  const list = new Command('list')
    .summary('List parked events')
    .option('--json', 'print them as JSON')
    .addHelpText(
      'after',
      commonHelp([
        [0, 'printed'],
        [2, 'usage or configuration error'],
      ]),
    )
    .action(async (options: JsonOption) => {
      await withRunner(async (_runner, readModels) => {
        const parked = await readModels.listParked();
        if (options.json) return console.log(toJson(parked));
        if (parked.length === 0) return console.log('no parked events');
        for (const p of parked)
          console.log(
            `${p.id}\t${p.projection}\tposition ${p.position}\t${p.type}\t${p.eventId}\t${p.attempts} tries\t${p.parkedAt}\n\t${p.error}`,
          );
      });
    });
  const retry = new Command('retry')
    .summary('Apply one parked event again and remove it from the dead-letter table')
    .argument('<id>', 'the id shown by `dlq list`', parseId)
    .addHelpText(
      'after',
      commonHelp([
        [0, 'applied and removed'],
        [1, 'its handler failed again: it stays parked'],
        [2, 'usage or configuration error, or no parked event has this id'],
      ]),
    )
    .action(async (id: number) => {
      await withRunner(async (runner) => {
        try {
          const parked = await runner.retryParked(id);
          console.log(`applied ${parked.type} ${parked.eventId} to ${parked.projection}`);
        } catch (error) {
          if (
            isProvenantError(error) &&
            ['READ_MODEL_PARKED_NOT_FOUND', 'READ_MODEL_UNKNOWN_PROJECTION'].includes(error.code)
          )
            throw error;
          console.error(`still failing: ${error instanceof Error ? error.message : String(error)}`);
          process.exitCode = 1;
        }
      });
    });
  return new Command('dlq')
    .summary('Parked (dead-letter) events: list, retry')
    .description('Events a projection could not apply after its retries, parked with the error.')
    .addCommand(list)
    .addCommand(retry);
}

export function projectionsCommand(): Command {
  return new Command('projections')
    .summary('Read models: run, status, rebuild, dlq')
    .description('Commands on the projections that keep the read models current.')
    .addCommand(runCommand())
    .addCommand(statusCommand())
    .addCommand(rebuildCommand())
    .addCommand(dlqCommand());
}
