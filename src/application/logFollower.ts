// A process manager's loop: follow `$all` (filtered on event types) from a
// checkpoint kept in a stream of its own, hand each event to `handle`, append a
// checkpoint when `handle` asks for one, and on any failure log it, wait (doubling
// up to a ceiling) and resume from the last checkpoint. Handlers are idempotent,
// so an event seen again after a restart records nothing twice. The attestor and
// the chain binder run on it; it never throws into the server.
import type { EventStore, RecordedEvent, Subscription } from '../eventStore/types.js';
import { wakeableSleep } from '../wakeableSleep.js';

export interface FollowerLogger {
  info(obj: object, message: string): void;
  warn(obj: object, message: string): void;
  error(obj: object, message: string): void;
}

export const silentLogger: FollowerLogger = { info: () => {}, warn: () => {}, error: () => {} };

export interface LogFollowerOptions {
  store: EventStore;
  /** Named in the log lines ("attestor failed; retrying"). */
  name: string;
  /** The follower's own stream of checkpoints; the last event names the position. */
  checkpoint: { stream: string; type: string };
  /** Event-type prefixes of `$all` the follower reads. */
  eventTypePrefixes: readonly string[];
  /** Handles one event; resolves true when a checkpoint should follow it. Throwing restarts the loop. */
  handle: (event: RecordedEvent) => Promise<boolean>;
  logger?: FollowerLogger | undefined;
  /** First retry delay (ms, default 500), doubled up to `maxBackoffMs` (default 30 s). */
  backoffMs?: number | undefined;
  maxBackoffMs?: number | undefined;
}

export interface LogFollower {
  /** Stops the subscription and waits for the event in hand. Idempotent. */
  stop(): Promise<void>;
  /** Checkpoints appended since the start. */
  readonly checkpoints: number;
}

interface CheckpointData {
  position: string;
  eventId: string;
}

async function readCheckpoint(store: EventStore, stream: string): Promise<bigint | undefined> {
  const { events } = await store.readStream(stream, {
    direction: 'backwards',
    from: 'end',
    maxCount: 1,
  });
  const data = events[0]?.data as CheckpointData | undefined;
  return data === undefined ? undefined : BigInt(data.position);
}

/** Starts following the log; it runs until `stop()`. */
export function followLog(options: LogFollowerOptions): LogFollower {
  const { store, name, checkpoint, handle } = options;
  const log = options.logger ?? silentLogger;
  const backoffMs = options.backoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  let stopped = false;
  let subscription: Subscription | undefined;
  let checkpoints = 0;

  const { sleep, wake } = wakeableSleep();

  async function run(): Promise<void> {
    let delay = backoffMs;
    while (!stopped) {
      try {
        const from = await readCheckpoint(store, checkpoint.stream);
        subscription = store.subscribeToAll({
          from: from ?? 'start',
          filter: { eventTypePrefix: [...options.eventTypePrefixes] },
        });
        for await (const event of subscription) {
          if (stopped) break;
          if (await handle(event)) {
            const data: CheckpointData = { position: event.position.toString(), eventId: event.id };
            await store.append(checkpoint.stream, [{ type: checkpoint.type, data }]);
            checkpoints++;
          }
          delay = backoffMs;
        }
      } catch (error) {
        if (stopped) break;
        log.error(
          { err: error instanceof Error ? error.message : String(error), retryInMs: delay },
          `${name} failed; retrying`,
        );
        await subscription?.close().catch(() => undefined);
        subscription = undefined;
        await sleep(delay);
        delay = Math.min(delay * 2, maxBackoffMs);
      }
    }
  }

  const running = run();
  return {
    get checkpoints() {
      return checkpoints;
    },
    async stop() {
      stopped = true;
      wake();
      await subscription?.close().catch(() => undefined);
      await running;
    },
  };
}
