// What an append writes, before any I/O: the port's and the adapter's checks of
// the batch, and the client's events with chained digests and deterministic ids.
import type { EventData, JSONType } from '@eventstore/db-client';
import { ProvenantError } from '../../errors.js';
import { ANY, type ExpectedRevision } from '../expectedRevision.js';
import { newEventId } from '../ids.js';
import { eventDigest } from '../integrity.js';
import type { EventToAppend } from '../types.js';
import { prepareAppend } from '../validation.js';
import { assertStorableOnEsdb, esdbEventId } from './mapping.js';
import { PROVENANT_METADATA_KEY, encodeMetadata } from './metadata.js';

export type CheckedAppend = ReturnType<typeof prepareAppend>;
export type Prepared = CheckedAppend['prepared'];

/** The port's checks of an append, plus the adapter's: names the server reserves, our metadata key. */
export function checkAppend(
  stream: string,
  events: readonly EventToAppend[],
  expectedRevision: ExpectedRevision | undefined,
): CheckedAppend {
  // Only a missing option means `any`: an explicit null is invalid input.
  const checked = prepareAppend(
    stream,
    events,
    expectedRevision === undefined ? ANY : expectedRevision,
  );
  assertStorableOnEsdb(
    checked.stream,
    checked.prepared.map((p) => p.type),
  );
  for (const p of checked.prepared)
    if (p.event.metadata !== undefined && Object.hasOwn(p.event.metadata, PROVENANT_METADATA_KEY))
      throw new ProvenantError(
        'STORE_INVALID_EVENT',
        `Metadata key '${PROVENANT_METADATA_KEY}' is reserved by the EventStoreDB/KurrentDB adapter`,
      );
  return checked;
}

/** The events to write after the tail's chain head (no I/O): their port ids and the client's event data. */
export function toEventData(
  prepared: Prepared,
  prevDigest: string,
  now: Date,
): { ids: string[]; data: EventData[] } {
  const recordedAt = now.toISOString();
  let prev = prevDigest;
  const ids: string[] = [];
  const data: EventData[] = prepared.map((p) => {
    const id = newEventId(now.getTime());
    ids.push(id);
    const digest = p.contentDigest;
    const { idempotencyKey, idempotencyDigest } = p.event;
    const metadata = encodeMetadata(
      p.event.metadata,
      { contentDigest: digest, prevDigest: prev },
      {
        v: 1,
        id,
        recordedAt,
        ...(idempotencyKey !== undefined && {
          idempotencyKey,
          idempotencyDigest: idempotencyDigest ?? digest,
        }),
      },
    );
    prev = eventDigest(prev, digest);
    return {
      id: esdbEventId(id, idempotencyKey),
      contentType: 'application/json',
      type: p.type,
      // JSON of any shape; the client only JSON.stringify's it.
      data: p.event.data as JSONType,
      metadata: metadata,
    };
  });
  return { ids, data };
}
