// The write side of the PostgreSQL log: group commit under one advisory lock.
//
// Appends queue up in this process; one group at a time runs as one
// transaction that first takes `pg_advisory_xact_lock(<log key>)`. That lock is
// the single writer of the whole log, across every process that shares the
// schema: it is held until COMMIT, so positions (max + 1, with no sequence) are
// handed out in commit order and a reader can never see position n + 1 before
// n is committed (docs/postgres.md explains the choice). Inside the group, the
// stream heads and the idempotency keys the appends name are read once; every
// check (idempotency, expected revision) and the hash chains (integrity.ts) are
// then computed here, a rejected append is left out of the insert, and all rows
// go in with one INSERT ... unnest. NOTIFY in the same transaction wakes the
// subscribers of every node once the rows are visible.
//
// An append is acknowledged only after COMMIT returned. When the connection
// fails, every append of the group is rejected as STORE_BACKEND_UNAVAILABLE:
// none is acknowledged, and a retry with its idempotency key is safe.
import { BackendUnavailableError } from '../errors.js';
import {
  NO_STREAM,
  RevisionConflictError,
  matchesExpectedRevision,
  type ExpectedRevision,
} from '../expectedRevision.js';
import type { PreparedRow } from '../eventRow.js';
import { redeliveryResult, storedOriginals, type StoredKey } from '../idempotency.js';
import { ZERO_DIGEST, eventDigest } from '../integrity.js';
import type { AppendResult, AppendedEvent } from '../types.js';
import {
  describeError,
  isConnectionError,
  type Pool,
  type PoolClient,
} from '../../postgres/index.js';

export interface PendingAppend {
  stream: string;
  expectedRevision: ExpectedRevision;
  keyed: { key: string; digest: string }[];
  rows: PreparedRow[];
}

interface Queued extends PendingAppend {
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

interface Head {
  revision: number;
  /** The chain link the stream's next event carries as prevDigest. */
  link: string;
}

export interface PgWriter {
  submit(append: PendingAppend): Promise<AppendResult>;
  /** Resolves once every queued append has settled. */
  drain(): Promise<void>;
  stats(): { commits: number; appends: number; events: number };
}

export interface PgWriterOptions {
  pool: Pool;
  lockKey: string;
  channel: string;
  /** Most events per group transaction. */
  maxEventsPerCommit: number;
  /** Runs before each group (the schema check); throws to reject the group. */
  beforeGroup: () => Promise<void>;
  onCommitted: (head: bigint) => void;
}

const INSERT_EVENTS = `
INSERT INTO events (position, id, stream, revision, type, data, metadata, content_digest,
                    prev_digest, recorded_at, idempotency_key, idempotency_digest)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])`;

export function createPgWriter(options: PgWriterOptions): PgWriter {
  const { pool } = options;
  const queue: Queued[] = [];
  let running: Promise<void> | undefined;
  const counters = { commits: 0, appends: 0, events: 0 };

  function kick(): void {
    if (running !== undefined || queue.length === 0) return;
    running = runGroup().finally(() => {
      running = undefined;
      kick();
    });
  }

  function takeGroup(): Queued[] {
    const group: Queued[] = [];
    let events = 0;
    while (queue.length > 0) {
      const next = queue[0] as Queued;
      if (group.length > 0 && events + next.rows.length > options.maxEventsPerCommit) break;
      group.push(next);
      events += next.rows.length;
      queue.shift();
    }
    return group;
  }

  async function runGroup(): Promise<void> {
    const group = takeGroup();
    let client: PoolClient | undefined;
    let outcomes: (AppendResult | Error)[] = [];
    try {
      await options.beforeGroup();
      client = await pool.connect();
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [options.lockKey]);
      outcomes = await applyGroup(client, group);
      await client.query('COMMIT');
    } catch (error) {
      if (client !== undefined) await client.query('ROLLBACK').catch(() => undefined);
      client?.release(isConnectionError(error) ? (error as Error) : undefined);
      client = undefined;
      const failure = isConnectionError(error)
        ? new BackendUnavailableError(`PostgreSQL is unavailable: ${describeError(error)}`, {
            cause: error,
          })
        : error;
      for (const append of group) append.reject(failure);
      return;
    } finally {
      client?.release();
    }
    let written = 0;
    let head = 0n;
    group.forEach((append, i) => {
      const outcome = outcomes[i] as AppendResult | Error;
      if (outcome instanceof Error) return append.reject(outcome);
      if (!outcome.duplicate) {
        written += outcome.events.length;
        if (outcome.position > head) head = outcome.position;
      }
      append.resolve(outcome);
    });
    counters.commits++;
    counters.appends += group.length;
    counters.events += written;
    if (written > 0) options.onCommitted(head);
  }

  /** Checks and chains every append of the group, inserts the accepted rows; one outcome per append. */
  async function applyGroup(
    client: PoolClient,
    group: readonly Queued[],
  ): Promise<(AppendResult | Error)[]> {
    const streams = [...new Set(group.map((a) => a.stream))];
    const keys = [...new Set(group.flatMap((a) => a.keyed.map((k) => k.key)))];
    const heads = new Map<string, Head>();
    const headRows = await client.query<{
      stream: string;
      revision: number;
      content_digest: string;
      prev_digest: string;
    }>(
      `SELECT s.stream, e.revision, e.content_digest, e.prev_digest
       FROM unnest($1::text[]) AS s(stream)
       CROSS JOIN LATERAL (SELECT revision, content_digest, prev_digest FROM events
                           WHERE events.stream = s.stream ORDER BY revision DESC LIMIT 1) e`,
      [streams],
    );
    for (const r of headRows.rows)
      heads.set(r.stream, {
        revision: r.revision,
        link: eventDigest(r.prev_digest, r.content_digest),
      });
    const stored = new Map<string, StoredKey>();
    if (keys.length > 0) {
      const keyRows = await client.query<{
        idempotency_key: string;
        id: string;
        stream: string;
        revision: number;
        position: string;
        idempotency_digest: string;
      }>(
        `SELECT idempotency_key, id, stream, revision, position, idempotency_digest
         FROM events WHERE idempotency_key = ANY($1::text[])`,
        [keys],
      );
      for (const r of keyRows.rows)
        stored.set(r.idempotency_key, {
          id: r.id,
          stream: r.stream,
          revision: r.revision,
          position: BigInt(r.position),
          digest: r.idempotency_digest,
        });
    }
    const top = await client.query<{ p: string }>(
      'SELECT coalesce(max(position), 0)::text AS p FROM events',
    );
    let position = BigInt(top.rows[0]?.p ?? '0');

    const cols: unknown[][] = Array.from({ length: 12 }, () => []);
    const keyCols: [string[], string[]] = [[], []];
    const seenLookupKeys = new Set<string>();
    const outcomes = group.map((append): AppendResult | Error => {
      try {
        const head = heads.get(append.stream);
        const duplicate = duplicateOf(append, head?.revision, stored);
        if (duplicate !== undefined) return duplicate;
        const actual = head === undefined ? NO_STREAM : head.revision;
        if (!matchesExpectedRevision(append.expectedRevision, actual))
          return new RevisionConflictError(append.stream, append.expectedRevision, actual);
        let revision = head?.revision ?? -1;
        let link = head?.link ?? ZERO_DIGEST;
        const written: AppendedEvent[] = [];
        for (const row of append.rows) {
          revision++;
          position++;
          const values = [
            position.toString(),
            row.id,
            append.stream,
            revision,
            row.type,
            row.dataJson,
            row.metadataJson,
            row.contentDigest,
            link,
            row.recordedAt,
            row.idempotencyKey,
            row.idempotencyDigest,
          ];
          values.forEach((v, i) => (cols[i] as unknown[]).push(v));
          for (const key of row.lookupKeys ?? [])
            if (!seenLookupKeys.has(key)) {
              seenLookupKeys.add(key);
              keyCols[0].push(key);
              keyCols[1].push(position.toString());
            }
          if (row.idempotencyKey !== null && row.idempotencyDigest !== null)
            stored.set(row.idempotencyKey, {
              id: row.id,
              stream: append.stream,
              revision,
              position,
              digest: row.idempotencyDigest,
            });
          written.push({ id: row.id, revision, position });
          link = eventDigest(link, row.contentDigest);
        }
        heads.set(append.stream, { revision, link });
        return {
          duplicate: false,
          events: written,
          position,
          nextExpectedRevision: revision,
        };
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    });
    if ((cols[0] as unknown[]).length > 0) {
      await client.query(INSERT_EVENTS, cols);
      if (keyCols[0].length > 0)
        await client.query(
          `INSERT INTO event_keys (key, position)
           SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (key) DO NOTHING`,
          keyCols,
        );
      await client.query('SELECT pg_notify($1, $2)', [options.channel, position.toString()]);
    }
    return outcomes;
  }

  return {
    submit(append) {
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ ...append, resolve, reject });
        kick();
      });
    },
    async drain() {
      while (running !== undefined) await running;
    },
    stats: () => ({ ...counters }),
  };
}

/** The original result of an append whose keys are all stored; throws on a conflict. */
function duplicateOf(
  append: PendingAppend,
  headRevision: number | undefined,
  stored: ReadonlyMap<string, StoredKey>,
): AppendResult | undefined {
  const originals = storedOriginals(append.stream, append.keyed, (key) => stored.get(key));
  return originals && redeliveryResult(originals, headRevision);
}
