// One-event index streams, the adapter's stand-in for a secondary index: the
// idempotency keys (`$idem-…`, idempotency.ts) and the lookup keys (`$key-…`,
// lookupKeys.ts) each get a stream whose single event says where a key's event
// is. This is their shared read, write (first writer wins) and location check.
import {
  FORWARDS,
  NO_STREAM as CLIENT_NO_STREAM,
  START,
  WrongExpectedVersionError,
  type JSONType,
} from '@eventstore/db-client';
import { newEventId, ulidToUuid } from '../ids.js';
import type { EsdbClient } from './client.js';
import { readStreamRaw } from './reads.js';

/** Where an index record says its key's event is; `position` is a decimal string (JSON has no bigint). */
export interface IndexedLocation {
  eventId: string;
  stream: string;
  revision: number;
  position: string;
}

/** The location fields of an index event's data, or `undefined` when any is malformed. */
export function parseIndexedLocation(r: Record<string, unknown>): IndexedLocation | undefined {
  if (
    typeof r.eventId !== 'string' ||
    typeof r.stream !== 'string' ||
    typeof r.revision !== 'number' ||
    !Number.isSafeInteger(r.revision) ||
    typeof r.position !== 'string' ||
    !/^\d+$/.test(r.position)
  )
    return undefined;
  return { stream: r.stream, eventId: r.eventId, revision: r.revision, position: r.position };
}

/** The data of an index stream's event; `undefined` when the stream does not exist. */
export async function readIndexEvent(
  client: Pick<EsdbClient, 'readStream'>,
  stream: string,
): Promise<unknown> {
  const resolved = await readStreamRaw(client, stream, {
    direction: FORWARDS,
    fromRevision: START,
    maxCount: 1,
  });
  return resolved?.[0]?.event?.data;
}

/**
 * Writes an index stream's one event, with expected revision `no_stream`: an
 * event already there (an earlier or concurrent writer) is left alone. Other
 * errors are thrown as the client threw them.
 */
export async function writeIndexEvent(
  client: Pick<EsdbClient, 'appendToStream'>,
  stream: string,
  type: string,
  data: JSONType,
): Promise<void> {
  try {
    await client.appendToStream(
      stream,
      {
        id: ulidToUuid(newEventId()),
        contentType: 'application/json',
        type,
        data,
        metadata: undefined,
      },
      { expectedRevision: CLIENT_NO_STREAM },
    );
  } catch (error) {
    if (error instanceof WrongExpectedVersionError) return;
    throw error;
  }
}
