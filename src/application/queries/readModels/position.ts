// Read-your-writes for queries over read models: the position a response reflects
// (the lowest checkpoint of the read models it reads) and `minPosition`, a bounded
// wait until those read models have applied the log up to a position.
import { ProvenantError } from '../../../errors.js';
import type { EventStore } from '../../../eventStore/types.js';
import type { ReadModelSnapshot, ReadModelStore } from '../../../readModels/port.js';

/** The projections (runner names) a query reads. */
export type ProjectionName =
  | 'receiptsLedger'
  | 'gateStatus'
  | 'stageStatus'
  | 'unitSummary'
  | 'pipelineEvents'
  | 'attestationIndex';

export interface PositionOptions {
  /** Longest wait for `minPosition` (default 5,000 ms). */
  waitMs?: number;
  /** How often the checkpoints are read while waiting (default 10 ms). */
  pollMs?: number;
}

export const DEFAULT_QUERY_WAIT_MS = 5000;
/** Seconds a client is told to wait (Retry-After) after a `QUERY_POSITION_TIMEOUT`. */
export const RETRY_AFTER_SECONDS = 1;

/** The lowest checkpoint of `names` (0 for one that never ran). */
export async function positionOf(
  readModels: Pick<ReadModelSnapshot, 'getCheckpoint'>,
  names: readonly ProjectionName[],
): Promise<bigint> {
  let lowest: bigint | undefined;
  for (const name of names) {
    const checkpoint = (await readModels.getCheckpoint(name)) ?? 0n;
    if (lowest === undefined || checkpoint < lowest) lowest = checkpoint;
  }
  return lowest ?? 0n;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** QUERY_POSITION_BEYOND_HEAD for a position the log has not reached, named as the request named it. */
export const positionBeyondHead = (name: string, position: bigint, head: bigint): ProvenantError =>
  new ProvenantError(
    'QUERY_POSITION_BEYOND_HEAD',
    `${name} ${position} is beyond the head of the log (${head})`,
    { details: { [name]: position.toString(), head: head.toString() } },
  );

/**
 * The position `names` reflect, once it is at least `minPosition` (when given).
 * A `minPosition` beyond the head of the log is `QUERY_POSITION_BEYOND_HEAD` (it may
 * never come); not reached within `waitMs`, `QUERY_POSITION_TIMEOUT`.
 */
export async function awaitPosition(
  deps: { readModels: ReadModelStore; eventStore: EventStore },
  names: readonly ProjectionName[],
  minPosition: bigint | undefined,
  { waitMs = DEFAULT_QUERY_WAIT_MS, pollMs = 10 }: PositionOptions = {},
): Promise<bigint> {
  let position = await positionOf(deps.readModels, names);
  if (minPosition === undefined || position >= minPosition) return position;
  const head = await deps.eventStore.headPosition();
  if (minPosition > head) throw positionBeyondHead('minPosition', minPosition, head);
  const deadline = performance.now() + waitMs;
  while (position < minPosition) {
    if (performance.now() >= deadline)
      throw new ProvenantError(
        'QUERY_POSITION_TIMEOUT',
        `the read models reached position ${position}, not ${minPosition}, within ${waitMs} ms`,
        {
          details: {
            minPosition: minPosition.toString(),
            position: position.toString(),
            retryAfterSeconds: RETRY_AFTER_SECONDS,
          },
        },
      );
    await sleep(pollMs);
    position = await positionOf(deps.readModels, names);
  }
  return position;
}
