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
import type { EventStore, RecordedEvent } from '../../eventStore/types.js';
import { followLog, silentLogger, type FollowerLogger } from '../logFollower.js';
import type { AttestationService } from './service.js';

/** The stream holding the attestor's checkpoints. */
export const ATTESTOR_CHECKPOINT_STREAM = '$checkpoint-attestor';
/** Type of the checkpoint events. */
export const ATTESTOR_CHECKPOINT_TYPE = 'AttestorCheckpoint.v1';

export type AttestorLogger = FollowerLogger;

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
  /** StagePassed events handled and checkpointed since the start (tests). */
  readonly handled: number;
}

/** Starts the attestor; it runs until `stop()`. */
export function startAttestor(options: AttestorOptions): Attestor {
  const { store, attestations } = options;
  const log = options.logger ?? silentLogger;

  async function handle(event: RecordedEvent): Promise<boolean> {
    if (event.type !== EventTypes.StagePassed) return false;
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
    return true;
  }

  const follower = followLog({
    store,
    name: 'attestor',
    checkpoint: { stream: ATTESTOR_CHECKPOINT_STREAM, type: ATTESTOR_CHECKPOINT_TYPE },
    eventTypePrefixes: [EventTypes.StagePassed.replace(/v1$/, '')],
    handle,
    logger: log,
    backoffMs: options.backoffMs,
    maxBackoffMs: options.maxBackoffMs,
  });
  return {
    get handled() {
      return follower.checkpoints;
    },
    stop: () => follower.stop(),
  };
}
