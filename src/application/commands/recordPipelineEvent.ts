// Record a pipeline event (any CloudEvent that is not a receipt) in its source's
// stream, keyed by the CloudEvent's `source` + `id` so that a redelivery appends
// nothing and returns the original position.
import { ProvenantError } from '../../errors.js';
import type { EventMetadata, EventStore } from '../../eventStore/types.js';
import type { PipelineEventCommand } from '../../ingest/index.js';
import type { PipelineEventOutcome } from '../ingest/types.js';

export async function recordPipelineEvent(
  store: EventStore,
  command: PipelineEventCommand,
  metadata: EventMetadata,
): Promise<PipelineEventOutcome> {
  const result = await store.append(command.stream, [
    {
      type: command.eventType,
      data: command.data,
      metadata,
      idempotencyKey: command.idempotencyKey,
      idempotencyDigest: command.idempotencyDigest,
    },
  ]);
  const event = result.events[0];
  if (event === undefined)
    throw new ProvenantError('INTERNAL', `Append to '${command.stream}' reported no event`);
  return {
    kind: 'pipeline-event',
    eventId: event.id,
    stream: command.stream,
    revision: event.revision,
    position: event.position.toString(),
    duplicate: result.duplicate,
  };
}
