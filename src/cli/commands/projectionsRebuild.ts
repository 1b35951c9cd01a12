// What `provenant projections rebuild` shows while it runs: the progress of a
// rebuild made in this process, or of one requested of the process that runs
// the projections (readModels/rebuildRequest.ts), which this one only watches.
import cliProgress from 'cli-progress';
import type { EventStore } from '../../eventStore/types.js';
import type { ReadModelStore } from '../../readModels/port.js';
import type { ProjectionDefinition } from '../../readModels/projection.js';
import { requestRebuilds } from '../../readModels/rebuildRequest.js';

/** How far a rebuild is: positions of the log, and the events read when this process reads them. */
export interface ShownProgress {
  position: bigint;
  total: bigint;
  /** Positions per second. */
  rate: number;
  /** Events read, when this process replays them itself. */
  processed?: number;
}

/** Reports rebuild progress: a bar with rate and ETA on a terminal, plain lines otherwise. */
export function progressReporter(name: string, quiet: boolean) {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${name.padEnd(16)} [{bar}] {percentage}% | {value}/{total} | {rate} ev/s | ETA {eta_formatted}`,
      },
      cliProgress.Presets.shades_classic,
    );
    let begun = false;
    return {
      update: (p: ShownProgress) => {
        if (!begun) bar.start(Math.max(Number(p.total), 1), 0, { rate: 0 });
        begun = true;
        // Nothing done yet (a requested rebuild not begun): the bar's ETA would be infinite.
        if (p.position === 0n) return;
        bar.setTotal(Math.max(Number(p.total), 1));
        bar.update(Math.min(Number(p.position), Number(p.total)), { rate: Math.round(p.rate) });
      },
      stop: () => {
        if (begun) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update: (p: ShownProgress) => {
      if (Date.now() - last < 1000 && p.position < p.total) return;
      last = Date.now();
      const events = p.processed === undefined ? '' : `${p.processed} events, `;
      console.error(
        `${name}: ${events}position ${p.position} of ${p.total}, ${Math.round(p.rate)} events/s`,
      );
    },
    stop: () => undefined,
  };
}

export interface RebuildByRequestOptions {
  label: string;
  definitions: readonly ProjectionDefinition[];
  json: boolean;
  readModels: ReadModelStore;
  eventStore: EventStore;
}

/**
 * Requests the rebuilds of another process's runner, shows their progress
 * until every one has swapped in, and returns one result per projection.
 */
export async function rebuildByRequest(options: RebuildByRequestOptions) {
  const { label, definitions, json } = options;
  if (!json)
    console.error(
      `${label}: another process runs the projections; the rebuild is requested of it (the current tables serve until it swaps in; Ctrl-C ends only this wait)`,
    );
  const progress = progressReporter(label, json);
  let result;
  try {
    result = await requestRebuilds({
      eventStore: options.eventStore,
      readModels: options.readModels,
      definitions,
      onProgress: progress.update,
      onStalled: (projection, position) =>
        console.error(
          `warning: the rebuild of ${projection} has not moved for 5 minutes, at position ${position}: the runner may have stopped it at a poison event (see its log); still waiting`,
        ),
    });
  } finally {
    progress.stop();
  }
  const results = definitions.map(({ name }) => ({
    name,
    requested: result.requested.includes(name),
    position: result.checkpoints[name] ?? 0n,
    parked: result.parkedBy[name] ?? 0,
    durationMs: result.durationMs,
  }));
  if (!json) {
    const joined =
      result.joined.length === 0
        ? ''
        : ` (${result.joined.join(', ')} already rebuilding: waited for)`;
    console.log(
      `${label}: rebuilt by the process that runs the projections in ${result.durationMs} ms${joined}`,
    );
  }
  return results;
}
