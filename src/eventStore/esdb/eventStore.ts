// The EventStoreDB/KurrentDB log (DESIGN.md §2, "Backends"): the whole port on
// @eventstore/db-client 6.x. The mapping rules live in pure modules beside this
// one (mapping, metadata, idempotency, lookupKeys, errors, verify); this file does the I/O.
// docs/kurrentdb.md explains the layout, the guarantees and their limits.
import {
  BACKWARDS,
  END,
  FORWARDS,
  NO_STREAM as CLIENT_NO_STREAM,
  type AppendResult as EsdbAppendResult,
  type EventData,
  type JSONType,
  type AppendToStreamOptions,
} from '@eventstore/db-client';
import { ProvenantError } from '../../errors.js';
import { storeClosed } from '../errors.js';
import {
  ANY,
  NO_STREAM,
  RevisionConflictError,
  STREAM_EXISTS,
  matchesExpectedRevision,
  type ActualRevision,
  type ExpectedRevision,
} from '../expectedRevision.js';
import { newEventId } from '../ids.js';
import { ZERO_DIGEST, eventDigest } from '../integrity.js';
import {
  type AppendOptions,
  type AppendResult,
  type AppendedEvent,
  type EventLocation,
  type EventStore,
  type EventToAppend,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
  type SubscribeToAllOptions,
  type Subscription,
  type VerifyResult,
} from '../types.js';
import { assertLookupKey, assertStreamName, prepareAppend } from '../validation.js';
import { createEsdbClient, type EsdbClient, type EsdbEventStoreOptions } from './client.js';
import { redactConnectionString } from './connectionString.js';
import { translateEsdbError } from './errors.js';
import {
  decideIdempotency,
  parseIdempotencyRecord,
  type IdempotencyRecord,
  type KeyedEvent,
} from './idempotency.js';
import {
  IDEMPOTENCY_EVENT_TYPE,
  assertStorableOnEsdb,
  esdbEventId,
  idempotencyStreamName,
} from './mapping.js';
import { PROVENANT_METADATA_KEY, encodeMetadata, type DecodedEvent } from './metadata.js';
import { ChainWalker } from '../chainWalker.js';
import { keysToRecord, findLookupKey, writeLookupKeyRecords } from './lookupKeys.js';
import { readIndexEvent, writeIndexEvent } from './indexStreams.js';
import {
  PAGE,
  collect,
  createReadAll,
  decodeAll,
  readStream,
  readStreamRaw,
  walkAll,
} from './reads.js';
import { backoff, sleep, type BackoffPolicy } from './retry.js';
import { subscribeToAll } from './subscription.js';

/** The EventStoreDB/KurrentDB store: the port, plus a safe description of where it points. */
export interface EsdbEventStore extends EventStore {
  /** The connection string with credentials redacted. */
  readonly description: string;
  /** The same, for logs and string templates. */
  toString(): string;
}

/** Settings the adapter itself needs, after the connection details are resolved. */
export interface EsdbAdapterSettings {
  description: string;
  readinessTimeoutMs?: number;
  subscriptionRetry?: { initialDelayMs?: number; maxDelayMs?: number };
  clock?: () => Date;
  /** Appends retried on a concurrent write when the caller asked for `any`/`stream_exists`. Default 20. */
  maxAppendAttempts?: number;
  /** Operational warnings (category reads falling back to the walk). Default `process.emitWarning`. */
  warn?: (message: string) => void;
}

// How many of a stream's last events an append reads: the last one gives the
// chain head; all of them are searched for a key whose index record is missing
// (an append whose process died between the event and its index record).
const TAIL_SIZE = 32;
/** Between attempts of an append that lost a race: 10, 20, … 200 ms, full jitter. */
const APPEND_RETRY: BackoffPolicy = { initialDelayMs: 10, maxDelayMs: 200, jitter: 'full' };

/**
 * Connects (lazily: the first call opens the channel) to EventStoreDB/KurrentDB
 * and returns the port (the client itself is built by client.ts). Throws `STORE_CONFIGURATION` for a malformed connection
 * string or an unreadable TLS file; an unreachable server is not an error here —
 * `isReady()` is false and calls fail with `STORE_BACKEND_UNAVAILABLE` until it answers.
 */
export function getEventStoreDBEventStore(options: EsdbEventStoreOptions): EsdbEventStore {
  const client = createEsdbClient(options);
  return createEsdbEventStore(client, {
    description: redactConnectionString(options.connectionString.trim()),
    ...(options.readinessTimeoutMs !== undefined && {
      readinessTimeoutMs: options.readinessTimeoutMs,
    }),
    ...(options.subscriptionRetry !== undefined && {
      subscriptionRetry: options.subscriptionRetry,
    }),
    ...(options.clock !== undefined && { clock: options.clock }),
  });
}

interface StreamTail {
  revision: ActualRevision;
  /** The digest the stream's next event must carry as prevDigest. */
  nextPrevDigest: string;
  /** Up to TAIL_SIZE last events, newest first. */
  events: DecodedEvent[];
}

/** The port on a given client. Exported for tests that drive it with a fake client. */
export function createEsdbEventStore(
  client: EsdbClient,
  settings: EsdbAdapterSettings,
): EsdbEventStore {
  const clock = settings.clock ?? (() => new Date());
  const readinessTimeoutMs = settings.readinessTimeoutMs ?? 2000;
  const initialDelayMs = settings.subscriptionRetry?.initialDelayMs ?? 100;
  const maxDelayMs = settings.subscriptionRetry?.maxDelayMs ?? 5000;
  const maxAppendAttempts = settings.maxAppendAttempts ?? 20;

  let state: 'open' | 'closing' | 'closed' = 'open';
  let closing: Promise<void> | undefined;
  const inFlight = new Set<Promise<unknown>>();
  const subscriptions = new Set<{ close(): Promise<void> }>();
  /** Appends holding an idempotency key in this process: same-key appends run one at a time. */
  const keyLocks = new Map<string, Promise<unknown>>();

  const assertOpen = (): void => {
    if (state !== 'open') throw storeClosed();
  };
  const readAll = createReadAll(
    client,
    assertOpen,
    settings.warn ?? ((message) => process.emitWarning(message, 'ProvenantWarning')),
  );

  async function readTail(stream: string): Promise<StreamTail> {
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

  async function readIdempotencyRecord(key: string): Promise<IdempotencyRecord | undefined> {
    const record = parseIdempotencyRecord(await readIndexEvent(client, idempotencyStreamName(key)));
    return record?.key === key ? record : undefined;
  }

  /** Writes a key's index record; a record already there (a concurrent writer) is left alone. */
  function writeIdempotencyRecord(record: IdempotencyRecord): Promise<void> {
    return writeIndexEvent(client, idempotencyStreamName(record.key), IDEMPOTENCY_EVENT_TYPE, {
      ...record,
    });
  }

  /** Index records for the keys, from their index streams or (repairing them) from the stream's tail. */
  async function findKeys(
    stream: string,
    keyed: readonly KeyedEvent[],
    tail: StreamTail,
  ): Promise<Map<string, IdempotencyRecord>> {
    const found = new Map<string, IdempotencyRecord>();
    const records = await Promise.all(keyed.map(({ key }) => readIdempotencyRecord(key)));
    records.forEach((record) => record && found.set(record.key, record));
    for (const { key } of keyed) {
      if (found.has(key)) continue;
      const hit = tail.events.find((d) => d.record?.idempotencyKey === key);
      if (hit === undefined) continue;
      const record: IdempotencyRecord = {
        key,
        digest: hit.record?.idempotencyDigest ?? hit.event.metadata.contentDigest,
        stream,
        eventId: hit.event.id,
        revision: hit.event.revision,
        position: hit.event.position.toString(),
      };
      found.set(key, record);
      // Best effort: the next lookup finds it directly.
      await writeIdempotencyRecord(record).catch(() => undefined);
    }
    return found;
  }

  /**
   * A redelivered idempotent append: records the lookup keys it carries for the
   * original events, in case the first delivery stopped before recording them.
   * `originals[i]` is the event stored under `keyed[i]`.
   */
  async function recordKeysOfOriginals(
    stream: string,
    prepared: ReturnType<typeof prepareAppend>['prepared'],
    keyed: readonly (KeyedEvent & { index: number })[],
    originals: readonly AppendedEvent[],
  ): Promise<void> {
    const lookupKeys = keyed.map((k) => prepared[k.index]?.event.lookupKeys);
    if (lookupKeys.some((keys) => keys !== undefined && keys.length > 0))
      await writeLookupKeyRecords(client, keysToRecord(stream, lookupKeys, originals));
  }

  async function appendOnce(
    stream: string,
    expectedRevision: ExpectedRevision,
    prepared: ReturnType<typeof prepareAppend>['prepared'],
    keyed: readonly (KeyedEvent & { index: number })[],
  ): Promise<AppendResult | 'retry'> {
    const tail = await readTail(stream);
    if (keyed.length > 0) {
      const found = await findKeys(stream, keyed, tail);
      const decision = decideIdempotency(stream, keyed, found);
      if (decision.kind === 'duplicate') {
        await recordKeysOfOriginals(stream, prepared, keyed, decision.originals);
        const last = decision.originals.reduce((a, b) => (b.position > a.position ? b : a));
        return {
          duplicate: true,
          events: decision.originals,
          position: last.position,
          nextExpectedRevision: tail.revision === NO_STREAM ? last.revision : tail.revision,
        };
      }
    }
    if (!matchesExpectedRevision(expectedRevision, tail.revision))
      throw new RevisionConflictError(stream, expectedRevision, tail.revision);

    const now = clock();
    const recordedAt = now.toISOString();
    let prev = tail.nextPrevDigest;
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

    const appendOptions: AppendToStreamOptions = {
      expectedRevision: tail.revision === NO_STREAM ? CLIENT_NO_STREAM : BigInt(tail.revision),
    };
    let result: EsdbAppendResult;
    try {
      result = await client.appendToStream(stream, data, appendOptions);
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

    // Read what was written back: it gives each event's $all position, and shows
    // whether the server recognised our (deterministic) ids as a retry of an
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
    const ours = written.every((w, i) => w.event.id === ids[i]);
    if (!ours) {
      const found = new Map<string, IdempotencyRecord>();
      for (const k of keyed) {
        const w = written[k.index];
        if (w === undefined) continue;
        const record: IdempotencyRecord = {
          key: k.key,
          digest: w.record?.idempotencyDigest ?? w.event.metadata.contentDigest,
          stream,
          eventId: w.event.id,
          revision: w.event.revision,
          position: w.event.position.toString(),
        };
        found.set(k.key, record);
        await writeIdempotencyRecord(record).catch(() => undefined);
      }
      const decision = decideIdempotency(stream, keyed, found);
      if (decision.kind === 'append')
        throw new ProvenantError(
          'ESDB_UNEXPECTED',
          `The server kept other events than ours at '${stream}'@${first}`,
        );
      await recordKeysOfOriginals(stream, prepared, keyed, decision.originals);
      const last = decision.originals.reduce((a, b) => (b.position > a.position ? b : a));
      return {
        duplicate: true,
        events: decision.originals,
        position: last.position,
        nextExpectedRevision: Number(result.nextExpectedRevision),
      };
    }
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
        await writeIdempotencyRecord({
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
    return {
      duplicate: false,
      events,
      position: last.position,
      nextExpectedRevision: last.revision,
    };
  }

  async function appendChecked(
    stream: string,
    expectedRevision: ExpectedRevision,
    prepared: ReturnType<typeof prepareAppend>['prepared'],
  ): Promise<AppendResult> {
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
      const outcome = await appendOnce(stream, expectedRevision, prepared, keyed);
      if (outcome !== 'retry') return outcome;
      if (attempt >= maxAppendAttempts)
        throw new RevisionConflictError(
          stream,
          expectedRevision,
          (await readTail(stream)).revision,
        );
      await sleep(wait.next());
    }
  }

  /** Runs `work` once no other append in this process holds any of `keys`. */
  async function withKeyLocks<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    for (;;) {
      const held = keys.flatMap((k) => keyLocks.get(k) ?? []);
      if (held.length === 0) break;
      await Promise.allSettled(held);
    }
    const running = work();
    for (const k of keys) keyLocks.set(k, running);
    try {
      return await running;
    } finally {
      for (const k of keys) if (keyLocks.get(k) === running) keyLocks.delete(k);
    }
  }

  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    const untrack = (): void => void inFlight.delete(work);
    work.then(untrack, untrack);
    return work;
  }

  const store: EsdbEventStore = {
    description: settings.description,

    append(
      stream: string,
      events: readonly EventToAppend[],
      appendOptions: AppendOptions = {},
    ): Promise<AppendResult> {
      try {
        assertOpen();
        const checked = prepareAppend(
          stream,
          events,
          // Only a missing option means `any`: an explicit null is invalid input.
          appendOptions.expectedRevision === undefined ? ANY : appendOptions.expectedRevision,
        );
        assertStorableOnEsdb(
          checked.stream,
          checked.prepared.map((p) => p.type),
        );
        for (const p of checked.prepared)
          if (
            p.event.metadata !== undefined &&
            Object.hasOwn(p.event.metadata, PROVENANT_METADATA_KEY)
          )
            throw new ProvenantError(
              'STORE_INVALID_EVENT',
              `Metadata key '${PROVENANT_METADATA_KEY}' is reserved by the EventStoreDB/KurrentDB adapter`,
            );
        const keys = checked.prepared.flatMap((p) => p.event.idempotencyKey ?? []);
        return track(
          withKeyLocks(keys, () =>
            appendChecked(checked.stream, checked.expectedRevision, checked.prepared),
          ),
        );
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    async readStream(
      stream: string,
      readOptions: ReadStreamOptions = {},
    ): Promise<ReadStreamResult> {
      assertOpen();
      return readStream(client, stream, readOptions);
    },

    async readAll(readOptions: ReadAllOptions = {}): Promise<RecordedEvent[]> {
      assertOpen();
      return readAll(readOptions);
    },

    subscribeToAll(subscribeOptions: SubscribeToAllOptions = {}): Subscription {
      return subscribeToAll(
        {
          client,
          assertOpen,
          retry: { initialDelayMs, maxDelayMs, jitter: 'equal' },
          open: subscriptions,
        },
        subscribeOptions,
      );
    },

    async findByKey(key: string): Promise<EventLocation | undefined> {
      assertOpen();
      assertLookupKey(key);
      return findLookupKey(client, key);
    },

    async headPosition(): Promise<bigint> {
      assertOpen();
      let head = 0n;
      await walkAll(
        client,
        assertOpen,
        'end',
        'backwards',
        (event) => {
          head = event.position;
          return false;
        },
        100,
      );
      return head;
    },

    async verifyStream(stream: string): Promise<VerifyResult> {
      assertOpen();
      assertStreamName(stream);
      const walker = new ChainWalker();
      let from = 0n;
      for (;;) {
        const resolved = await readStreamRaw(client, stream, {
          direction: FORWARDS,
          fromRevision: from,
          maxCount: PAGE,
        });
        const page = decodeAll(resolved ?? []);
        for (const { event } of page) {
          const problem = walker.check(event);
          if (problem) return { ok: false, checked: walker.checked, problem };
        }
        if (page.length < PAGE) return { ok: true, checked: walker.checked };
        from = BigInt((page.at(-1)?.event.revision ?? 0) + 1);
        assertOpen();
      }
    },

    async verifyAll(verifyOptions = {}): Promise<VerifyResult> {
      assertOpen();
      const walker = new ChainWalker();
      let result: VerifyResult | undefined;
      await walkAll(client, assertOpen, 'start', 'forwards', (event) => {
        const problem = walker.check(event);
        if (problem) {
          result = { ok: false, checked: walker.checked, problem };
          return false;
        }
        if (walker.checked % PAGE === 0) verifyOptions.onProgress?.(walker.checked);
        return true;
      });
      if (result) return result;
      verifyOptions.onProgress?.(walker.checked);
      return { ok: true, checked: walker.checked };
    },

    async isReady(): Promise<boolean> {
      if (state !== 'open') return false;
      const read = client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), readinessTimeoutMs);
      });
      try {
        return await Promise.race([collect(read).then(() => true), timeout]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
        void read.cancel().catch(() => undefined);
      }
    },

    close(): Promise<void> {
      closing ??= (async () => {
        state = 'closing';
        // In-flight appends finish and are acknowledged (or fail); new ones are refused.
        await Promise.allSettled([...inFlight]);
        await Promise.allSettled([...subscriptions].map((s) => s.close()));
        await client.dispose().catch(() => undefined);
        state = 'closed';
      })();
      return closing;
    },

    toString(): string {
      return `EventStoreDB/KurrentDB event store (${settings.description})`;
    },
  };
  return store;
}
