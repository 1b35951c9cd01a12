// The append protocol on EventStoreDB/KurrentDB, which has no idempotency keys,
// lookup keys or hash chain of its own: read the tail, check the keys, write
// events with chained digests and deterministic ids, read them back to see what
// the server kept, then write the keys' index records (docs/kurrentdb.md).
import {
  FORWARDS,
  NO_STREAM as CLIENT_NO_STREAM,
  type AppendResult as EsdbAppendResult,
  type EventData,
} from '@eventstore/db-client';
import { ProvenantError } from '../../errors.js';
import {
  ANY,
  NO_STREAM,
  RevisionConflictError,
  STREAM_EXISTS,
  matchesExpectedRevision,
  type ExpectedRevision,
} from '../expectedRevision.js';
import type { AppendResult, AppendedEvent } from '../types.js';
import type { EsdbClient } from './client.js';
import { translateEsdbError } from './errors.js';
import { redeliveryResult, type KeyedEvent } from '../idempotency.js';
import { decideIdempotency, type IdempotencyRecord } from './idempotency.js';
import { keysToRecord, writeLookupKeyRecords } from './lookupKeys.js';
import type { DecodedEvent } from './metadata.js';
import { decodeAll, readStreamRaw } from './reads.js';
import { backoff, sleep, type BackoffPolicy } from './retry.js';
import { toEventData, type CheckedAppend, type Prepared } from './eventData.js';
import { createKeyLocks } from './keyLocks.js';
import { findKeys, readTail, recordOf, writeIdempotencyRecord, type StreamTail } from './tail.js';

/** The keyed events of an append, each with its index in the append. */
type Keyed = readonly (KeyedEvent & { index: number })[];
type Client = Pick<EsdbClient, 'appendToStream' | 'readStream'>;

/** Between attempts of an append that lost a race: 10, 20, … 200 ms, full jitter. */
const APPEND_RETRY: BackoffPolicy = { initialDelayMs: 10, maxDelayMs: 200, jitter: 'full' };

/**
 * A redelivered idempotent append: records the lookup keys it carries for the
 * original events, in case the first delivery stopped before recording them.
 * `originals[i]` is the event stored under `keyed[i]`.
 */
async function recordKeysOfOriginals(
  client: Client,
  stream: string,
  prepared: Prepared,
  keyed: Keyed,
  originals: readonly AppendedEvent[],
): Promise<void> {
  const lookupKeys = keyed.map((k) => prepared[k.index]?.event.lookupKeys);
  if (lookupKeys.some((keys) => keys !== undefined && keys.length > 0))
    await writeLookupKeyRecords(client, keysToRecord(stream, lookupKeys, originals));
}

/** The result of a redelivery: the original events (their lookup keys recorded). */
async function redelivered(
  client: Client,
  stream: string,
  prepared: Prepared,
  keyed: Keyed,
  originals: AppendedEvent[],
  nextExpectedRevision: number | undefined,
): Promise<AppendResult> {
  await recordKeysOfOriginals(client, stream, prepared, keyed, originals);
  return redeliveryResult(originals, nextExpectedRevision);
}

/** Step 1: a redelivery of keyed events already stored, or `undefined` to append. */
async function duplicateOf(
  client: Client,
  stream: string,
  prepared: Prepared,
  keyed: Keyed,
  tail: StreamTail,
): Promise<AppendResult | undefined> {
  if (keyed.length === 0) return undefined;
  const decision = decideIdempotency(stream, keyed, await findKeys(client, stream, keyed, tail));
  if (decision.kind !== 'duplicate') return undefined;
  const next = tail.revision === NO_STREAM ? undefined : tail.revision;
  return redelivered(client, stream, prepared, keyed, decision.originals, next);
}

/** Step 3: the write at the tail's revision; `'retry'` when another writer got there first and the caller allows it. */
async function write(
  client: Client,
  stream: string,
  expectedRevision: ExpectedRevision,
  tail: StreamTail,
  data: EventData[],
): Promise<EsdbAppendResult | 'retry'> {
  let result: EsdbAppendResult;
  try {
    result = await client.appendToStream(stream, data, {
      expectedRevision: tail.revision === NO_STREAM ? CLIENT_NO_STREAM : BigInt(tail.revision),
    });
  } catch (error) {
    const translated = translateEsdbError(error, {
      operation: `append to '${stream}'`,
      stream,
      expectedRevision,
    });
    if (translated instanceof RevisionConflictError) {
      // Someone appended between our read and our write. A caller who named a
      // revision or no_stream gets the conflict; for any/stream_exists we decide again.
      if (expectedRevision === ANY || expectedRevision === STREAM_EXISTS) return 'retry';
      throw new RevisionConflictError(stream, expectedRevision, translated.actual);
    }
    throw translated;
  }
  if (!result.success)
    throw new ProvenantError(
      'ESDB_UNEXPECTED',
      `The server did not accept the append to '${stream}'`,
    );
  return result;
}

/**
 * Step 4b: the server kept other events than ours at our revision, recognising
 * our deterministic ids as a retry of an earlier write: that write's events are
 * the originals (their index records written here, best effort).
 */
async function reconcileReadBack(
  client: Client,
  stream: string,
  prepared: Prepared,
  keyed: Keyed,
  written: readonly DecodedEvent[],
  first: number,
  nextExpectedRevision: number,
): Promise<AppendResult> {
  const found = new Map<string, IdempotencyRecord>();
  for (const k of keyed) {
    const w = written[k.index];
    if (w === undefined) continue;
    const record = recordOf(k.key, stream, w);
    found.set(k.key, record);
    await writeIdempotencyRecord(client, record).catch(() => undefined);
  }
  const decision = decideIdempotency(stream, keyed, found);
  if (decision.kind === 'append')
    throw new ProvenantError(
      'ESDB_UNEXPECTED',
      `The server kept other events than ours at '${stream}'@${first}`,
    );
  return redelivered(client, stream, prepared, keyed, decision.originals, nextExpectedRevision);
}

/** Step 5: our events are stored; record their idempotency and lookup keys. */
async function recordKeys(
  client: Client,
  stream: string,
  prepared: Prepared,
  keyed: Keyed,
  written: readonly DecodedEvent[],
): Promise<AppendResult> {
  const events: AppendedEvent[] = written.map((w) => ({
    id: w.event.id,
    revision: w.event.revision,
    position: w.event.position,
  }));
  // The events are durable now; an index record that fails to be written is
  // repaired from the stream's tail by the next delivery of the same key.
  await Promise.all(
    keyed.map(async (k) => {
      const e = events[k.index];
      if (e === undefined) return;
      await writeIdempotencyRecord(client, {
        key: k.key,
        digest: k.digest,
        stream,
        eventId: e.id,
        revision: e.revision,
        position: e.position.toString(),
      }).catch(() => undefined);
    }),
  );
  await writeLookupKeyRecords(
    client,
    keysToRecord(
      stream,
      prepared.map((p) => p.event.lookupKeys),
      events,
    ),
  );
  const last = events.at(-1) as AppendedEvent;
  return { duplicate: false, events, position: last.position, nextExpectedRevision: last.revision };
}

/** One attempt: the steps above in order; `'retry'` when it lost a race it may retry. */
async function appendOnce(
  client: Client,
  clock: () => Date,
  stream: string,
  expectedRevision: ExpectedRevision,
  prepared: Prepared,
  keyed: Keyed,
): Promise<AppendResult | 'retry'> {
  const tail = await readTail(client, stream);
  const duplicate = await duplicateOf(client, stream, prepared, keyed, tail);
  if (duplicate) return duplicate;
  // Step 2: the caller's expected revision, against the tail.
  if (!matchesExpectedRevision(expectedRevision, tail.revision))
    throw new RevisionConflictError(stream, expectedRevision, tail.revision);
  const { ids, data } = toEventData(prepared, tail.nextPrevDigest, clock());
  const result = await write(client, stream, expectedRevision, tail, data);
  if (result === 'retry') return 'retry';
  // Step 4: read what was written back: it gives each event's $all position, and
  // shows whether the server recognised our (deterministic) ids as a retry of an
  // earlier write at the same revision and kept the earlier events.
  const first = tail.revision === NO_STREAM ? 0 : tail.revision + 1;
  const written = decodeAll(
    (await readStreamRaw(client, stream, {
      direction: FORWARDS,
      fromRevision: BigInt(first),
      maxCount: prepared.length,
    })) ?? [],
  );
  if (written.length !== prepared.length)
    throw new ProvenantError(
      'ESDB_UNEXPECTED',
      `The append to '${stream}' was acknowledged but ${written.length} of ${prepared.length} events read back`,
    );
  if (!written.every((w, i) => w.event.id === ids[i]))
    return reconcileReadBack(
      client,
      stream,
      prepared,
      keyed,
      written,
      first,
      Number(result.nextExpectedRevision),
    );
  return recordKeys(client, stream, prepared, keyed, written);
}

/** What the append needs from the store that runs it. */
export interface AppendDeps {
  client: Client;
  clock: () => Date;
  /** Attempts of an `any`/`stream_exists` append that keeps losing races. */
  maxAppendAttempts: number;
}

/**
 * The adapter's append of a checked batch. Appends holding an idempotency key
 * in this process run one at a time per key; one that loses a race to another
 * writer is retried (any/stream_exists only) after a backoff.
 */
export function createAppend(deps: AppendDeps): (checked: CheckedAppend) => Promise<AppendResult> {
  const { client, clock, maxAppendAttempts } = deps;
  async function appendChecked({
    stream,
    expectedRevision,
    prepared,
  }: CheckedAppend): Promise<AppendResult> {
    const keyed = prepared.flatMap((p, index) =>
      p.event.idempotencyKey === undefined
        ? []
        : [
            {
              key: p.event.idempotencyKey,
              digest: p.event.idempotencyDigest ?? p.contentDigest,
              index,
            },
          ],
    );
    const wait = backoff(APPEND_RETRY);
    for (let attempt = 1; ; attempt++) {
      const outcome = await appendOnce(client, clock, stream, expectedRevision, prepared, keyed);
      if (outcome !== 'retry') return outcome;
      if (attempt >= maxAppendAttempts)
        throw new RevisionConflictError(
          stream,
          expectedRevision,
          (await readTail(client, stream)).revision,
        );
      await sleep(wait.next());
    }
  }

  const withKeyLocks = createKeyLocks();
  return (checked) =>
    withKeyLocks(
      checked.prepared.flatMap((p) => p.event.idempotencyKey ?? []),
      () => appendChecked(checked),
    );
}
