// Lookup keys on EventStoreDB/KurrentDB (`EventToAppend.lookupKeys`,
// `EventStore.findByKey`; DESIGN.md §5). The server has no secondary index we can
// write to, so — as for idempotency keys (idempotency.ts) — each key gets a
// one-event index stream `$key-<sha256(key)>` whose event names the event the
// key was first stored with. It is written right after the event's append, with
// expected revision `no_stream`: the first writer wins and a later event with the
// same key is left without it, the port's rule. `findByKey` reads that one
// stream: its cost does not depend on the size of `$all`.
//
// Not atomic with the append. If recording a key fails, the append is reported
// as failed (the events are stored; the error says so); a redelivery of an
// idempotent append records the keys of the original events again (see
// `append.ts`), which is how ingest-derived events reconcile. A key written
// by two concurrent appends goes to whichever index write lands first.
import { createHash } from 'node:crypto';
import type { EventLocation } from '../types.js';
import type { EsdbClient } from './client.js';
import { translateEsdbError } from './errors.js';
import { parseIndexedLocation, readIndexEvent, writeIndexEvent } from './indexStreams.js';

/** Stream holding the index record of one lookup key: `$`-prefixed, named by a digest. */
export const lookupKeyStreamName = (key: string): string =>
  `$key-${createHash('sha256').update(key, 'utf8').digest('hex')}`;

/** Type of the events in lookup-key streams: `$`-prefixed, hence hidden from `$all` reads. */
export const LOOKUP_KEY_EVENT_TYPE = '$provenant-lookup-key';

/** The content of a lookup-key index event. */
export interface LookupKeyRecord {
  key: string;
  /** Port id (ULID) of the event. */
  eventId: string;
  stream: string;
  revision: number;
  /** Decimal string: JSON has no bigint. */
  position: string;
}

export const toLookupKeyRecord = (key: string, at: EventLocation): LookupKeyRecord => ({
  key,
  eventId: at.id,
  stream: at.stream,
  revision: at.revision,
  position: at.position.toString(),
});

/** Reads an index event's data back, or `undefined` when it is not a record of `key`. */
export function parseLookupKeyRecord(data: unknown, key: string): EventLocation | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const r = data as Record<string, unknown>;
  const at = parseIndexedLocation(r);
  if (r.key !== key || at === undefined) return undefined;
  return {
    id: at.eventId,
    stream: at.stream,
    revision: at.revision,
    position: BigInt(at.position),
  };
}

/** `findByKey`: where the event stored with `key` is, from the key's index stream. */
export async function findLookupKey(
  client: Pick<EsdbClient, 'readStream'>,
  key: string,
): Promise<EventLocation | undefined> {
  return parseLookupKeyRecord(await readIndexEvent(client, lookupKeyStreamName(key)), key);
}

/**
 * The keys to record for the events of an append, each with where its event is.
 * A key repeated within the append goes to its first event.
 */
export function keysToRecord(
  stream: string,
  lookupKeys: readonly (readonly string[] | undefined)[],
  written: readonly ({ id: string; revision: number; position: bigint } | undefined)[],
): LookupKeyRecord[] {
  const out = new Map<string, LookupKeyRecord>();
  lookupKeys.forEach((keys, index) => {
    const at = written[index];
    if (keys === undefined || at === undefined) return;
    for (const key of keys)
      if (!out.has(key)) out.set(key, toLookupKeyRecord(key, { ...at, stream }));
  });
  return [...out.values()];
}

/**
 * Writes the index records of `records`, each only if its key has none yet (the
 * first event keeps the key).
 * Throws (translated) when a record cannot be written; the caller's events are
 * stored by then, which the message says.
 */
export async function writeLookupKeyRecords(
  client: Pick<EsdbClient, 'appendToStream'>,
  records: readonly LookupKeyRecord[],
): Promise<void> {
  await Promise.all(
    records.map(async (record) => {
      try {
        await writeIndexEvent(client, lookupKeyStreamName(record.key), LOOKUP_KEY_EVENT_TYPE, {
          ...record,
        });
      } catch (error) {
        throw translateEsdbError(error, {
          operation: `record lookup key '${record.key}' of ${record.stream}@${record.revision} (the event is stored; redeliver an idempotent append to complete its keys)`,
        });
      }
    }),
  );
}
