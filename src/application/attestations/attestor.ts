// The attestor: issues a VSA for every `StagePassed.v1` (issue 14, "on StagePassed
// automatically"). A subscription to `$all` filtered on the event type, resumed
// from a checkpoint kept in the system stream `$checkpoint-attestor` (one event
// appended after each StagePassed handled). A VSA is issued at most once per
// StagePassed: the append carries the idempotency key
// `attestation:stage-passed:<eventId>`, so a redelivery or a restart between the
// VSA and its checkpoint appends nothing. Failures are logged and retried with
// backoff; the attestor never throws into the server.
import { EventTypes } from '../../domain/events.js';
import { isProvenantError } from '../../errors.js';
import type { EventStore, RecordedEvent, Subscription } from '../../eventStore/types.js';
import type { AttestationService } from './service.js';

/** The stream holding the attestor's checkpoints. */
export const ATTESTOR_CHECKPOINT_STREAM = '$checkpoint-attestor';
/** Type of the checkpoint events. */
export const ATTESTOR_CHECKPOINT_TYPE = 'AttestorCheckpoint.v1';

export interface AttestorLogger {
  info(obj: object, message: string): void;
  warn(obj: object, message: string): void;
  error(obj: object, message: string): void;
}

export interface AttestorOptions {
  store: EventStore;
  attestations: Pick<AttestationService, 'issueStagePassedVsa'>;
  logger?: AttestorLogger;
  /** First retry delay (ms), doubled up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface Attestor {
  /** Stops the subscription and waits for the event in hand. Idempotent. */
  stop(): Promise<void>;
  /** Resolves after the next StagePassed is handled (tests). */
  readonly handled: number;
}

interface CheckpointData {
  position: string;
  eventId: string;
}

const silent: AttestorLogger = { info: () => {}, warn: () => {}, error: () => {} };

async function readCheckpoint(store: EventStore): Promise<bigint | undefined> {
  const { events } = await store.readStream(ATTESTOR_CHECKPOINT_STREAM, {
    direction: 'backwards',
    from: 'end',
    maxCount: 1,
  });
  const data = events[0]?.data as CheckpointData | undefined;
  return data === undefined ? undefined : BigInt(data.position);
}

/** Starts the attestor; it runs until `stop()`. */
export function startAttestor(options: AttestorOptions): Attestor {
  const { store, attestations } = options;
  const log = options.logger ?? silent;
  const backoffMs = options.backoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  let stopped = false;
  let subscription: Subscription | undefined;
  let wake: (() => void) | undefined;
  let handled = 0;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function handle(event: RecordedEvent): Promise<void> {
    try {
      const issued = await attestations.issueStagePassedVsa(event);
      if (!issued.duplicate)
        log.info(
          { attestationId: issued.attestationId, unit: issued.unit, stagePassed: event.id },
          'issued a VSA for a passed stage',
        );
    } catch (error) {
      // A request the store refuses for good (no artifacts to name, say) is
      // logged and passed over; anything else is retried.
      if (!isProvenantError(error) || error.status >= 500) throw error;
      log.warn(
        { stagePassed: event.id, code: error.code, err: error.message },
        'no VSA can be issued for this passed stage; skipping it',
      );
    }
    await store.append(ATTESTOR_CHECKPOINT_STREAM, [
      {
        type: ATTESTOR_CHECKPOINT_TYPE,
        data: { position: event.position.toString(), eventId: event.id },
      },
    ]);
    handled++;
  }

  async function run(): Promise<void> {
    let delay = backoffMs;
    while (!stopped) {
      try {
        const from = await readCheckpoint(store);
        subscription = store.subscribeToAll({
          from: from ?? 'start',
          filter: { eventTypePrefix: [EventTypes.StagePassed.replace(/v1$/, '')] },
        });
        for await (const event of subscription) {
          if (stopped) break;
          if (event.type !== EventTypes.StagePassed) continue;
          await handle(event);
          delay = backoffMs;
        }
      } catch (error) {
        if (stopped) break;
        log.error(
          { err: error instanceof Error ? error.message : String(error), retryInMs: delay },
          'attestor failed; retrying',
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
    get handled() {
      return handled;
    },
    async stop() {
      stopped = true;
      wake?.();
      await subscription?.close().catch(() => undefined);
      await running;
    },
  };
}
