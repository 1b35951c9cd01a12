// What an append reads before it writes: the stream's tail (its revision and
// chain head) and the index records of its idempotency keys, repairing from the
// tail a key whose index record an interrupted append never wrote.
import { BACKWARDS, END } from '@eventstore/db-client';
import { NO_STREAM, type ActualRevision } from '../expectedRevision.js';
import { ZERO_DIGEST, eventDigest } from '../integrity.js';
import type { EsdbClient } from './client.js';
import type { KeyedEvent } from '../idempotency.js';
import { parseIdempotencyRecord, type IdempotencyRecord } from './idempotency.js';
import { readIndexEvent, writeIndexEvent } from './indexStreams.js';
import { IDEMPOTENCY_EVENT_TYPE, idempotencyStreamName } from './mapping.js';
import type { DecodedEvent } from './metadata.js';
import { decodeAll, readStreamRaw } from './reads.js';

// How many of a stream's last events an append reads: the last one gives the
// chain head; all of them are searched for a key whose index record is missing
// (an append whose process died between the event and its index record).
const TAIL_SIZE = 32;

export interface StreamTail {
  revision: ActualRevision;
  /** The digest the stream's next event must carry as prevDigest. */
  nextPrevDigest: string;
  /** Up to TAIL_SIZE last events, newest first. */
  events: DecodedEvent[];
}

export async function readTail(
  client: Pick<EsdbClient, 'readStream'>,
  stream: string,
): Promise<StreamTail> {
  const resolved = await readStreamRaw(client, stream, {
    direction: BACKWARDS,
    fromRevision: END,
    maxCount: TAIL_SIZE,
  });
  const events = decodeAll(resolved ?? []);
  const last = events[0]?.event;
  if (last === undefined) return { revision: NO_STREAM, nextPrevDigest: ZERO_DIGEST, events };
  return {
    revision: last.revision,
    nextPrevDigest: eventDigest(last.metadata.prevDigest, last.metadata.contentDigest),
    events,
  };
}

async function readIdempotencyRecord(
  client: Pick<EsdbClient, 'readStream'>,
  key: string,
): Promise<IdempotencyRecord | undefined> {
  const record = parseIdempotencyRecord(await readIndexEvent(client, idempotencyStreamName(key)));
  return record?.key === key ? record : undefined;
}

/** Writes a key's index record; a record already there (a concurrent writer) is left alone. */
export function writeIdempotencyRecord(
  client: Pick<EsdbClient, 'appendToStream'>,
  record: IdempotencyRecord,
): Promise<void> {
  return writeIndexEvent(client, idempotencyStreamName(record.key), IDEMPOTENCY_EVENT_TYPE, {
    ...record,
  });
}

/** The index record of `key` for an event read from `stream`. */
export const recordOf = (key: string, stream: string, d: DecodedEvent): IdempotencyRecord => ({
  key,
  digest: d.record?.idempotencyDigest ?? d.event.metadata.contentDigest,
  stream,
  eventId: d.event.id,
  revision: d.event.revision,
  position: d.event.position.toString(),
});

/** Index records for the keys, from their index streams or (repairing them) from the stream's tail. */
export async function findKeys(
  client: Pick<EsdbClient, 'readStream' | 'appendToStream'>,
  stream: string,
  keyed: readonly KeyedEvent[],
  tail: StreamTail,
): Promise<Map<string, IdempotencyRecord>> {
  const found = new Map<string, IdempotencyRecord>();
  const records = await Promise.all(keyed.map(({ key }) => readIdempotencyRecord(client, key)));
  records.forEach((record) => record && found.set(record.key, record));
  for (const { key } of keyed) {
    if (found.has(key)) continue;
    const hit = tail.events.find((d) => d.record?.idempotencyKey === key);
    if (hit === undefined) continue;
    const record = recordOf(key, stream, hit);
    found.set(key, record);
    // Best effort: the next lookup finds it directly.
    await writeIdempotencyRecord(client, record).catch(() => undefined);
  }
  return found;
}
