// An in-memory stand-in for the parts of @eventstore/db-client the adapter uses,
// following the server's documented rules (STYLE.md §10: fake external services in
// the repo): 0-based revisions, expected-revision checks with the server's
// idempotency for repeated event ids, `$all` positions with commit = prepare that
// are increasing but not contiguous, inclusive read positions, system events, and
// an outage switch that fails calls with the client's real error objects, and
// the `$by_category` system projection: `$>` link events (data `<revision>@<stream>`)
// in `$ce-<category>` streams, resolved on stream reads with `resolveLinkTos`
// (a link whose target is gone comes back with `link` and no `event`), and the
// projection's `$ProjectionCheckpoint` (metadata `{ $c, $p }`, the position of the
// last event processed; links are written before it).
// Test support only: not exported from the adapter's index.
import { Readable } from 'node:stream';
import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  type AllStreamRecordedEvent,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type AppendResult,
  type EventData,
  type Filter,
  type Position,
} from '@eventstore/db-client';
import type { EsdbClient } from './client.js';

type Stored = AllStreamRecordedEvent;

interface Options {
  direction?: 'forwards' | 'backwards';
  maxCount?: number | bigint;
  fromRevision?: 'start' | 'end' | bigint;
  fromPosition?: 'start' | 'end' | Position;
  expectedRevision?: AppendExpectedRevision;
  filter?: Filter;
  resolveLinkTos?: boolean;
}

/** How the fake runs the `$by_category` projection. */
export type FakeProjections =
  /** Not running: no `$ce-` streams, no checkpoint (the server's default). */
  | 'off'
  /** Runs only when the test calls `project()`: lag under the test's control. */
  | 'manual'
  /** Links every event and checkpoints right after each append. */
  | 'immediate';

/** Stream of the `$by_category` projection's checkpoints. */
export const BY_CATEGORY_CHECKPOINT_STREAM = '$projections-$by_category-checkpoint';

/** The raw gRPC error the real client rejects an append with when no server answers. */
export const rawUnavailable = (): Error =>
  Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
    code: 14,
    details: 'No connection established',
  });

const streamingRead = <T>(items: T[], error?: Error): Readable & { cancel(): Promise<void> } => {
  const readable = Readable.from(
    (async function* () {
      await Promise.resolve();
      if (error) throw error;
      yield* items;
    })(),
    { objectMode: true },
  ) as Readable & { cancel(): Promise<void> };
  readable.cancel = () => {
    readable.destroy();
    return Promise.resolve();
  };
  return readable;
};

function passes(filter: Filter | undefined, event: Stored): boolean {
  if (filter === undefined) return true;
  const subject = filter.filterOn === 'streamName' ? event.streamId : event.type;
  if ('regex' in filter) return new RegExp(filter.regex).test(subject);
  return filter.prefixes.some((p) => subject.startsWith(p));
}

/** The fake server and its client. */
export class FakeEsdbServer {
  readonly log: Stored[] = [];
  readonly streams = new Map<string, Stored[]>();
  /** While true, every call fails as the real client does when the server is down. */
  down = false;
  /** When set, appends reject with this error (reads still work). */
  failAppendsWith: Error | undefined;
  /** Events (or links) delivered by stream and `$all` reads: what a read costs the server. */
  eventsRead = 0;
  /** Position of the last `$all` event the `$by_category` projection processed. */
  private projectedUpTo = 0n;
  private nextPosition = 1000n;
  /** Every position written (commit = prepare), scavenged or not. */
  private readonly written = new Set<bigint>();
  private readonly live = new Set<{ push(e: Stored): void; fail(e: Error): void }>();

  constructor(readonly projections: FakeProjections = 'off') {}

  /**
   * Runs the `$by_category` projection over what it has not processed yet: a link in
   * `$ce-<category>` for each event of a stream named `<category>-…` (not `$`-streams,
   * not system events), then, when `checkpoint`, a checkpoint at the last event processed.
   */
  project({ checkpoint = true }: { checkpoint?: boolean } = {}): void {
    const todo = this.log.filter((e) => e.position.commit > this.projectedUpTo);
    const last = todo.at(-1);
    if (last === undefined) return;
    for (const e of todo) {
      const dash = e.streamId.indexOf('-');
      if (e.streamId.startsWith('$') || e.type.startsWith('$') || dash <= 0) continue;
      this.write(`$ce-${e.streamId.slice(0, dash)}`, [
        {
          id: crypto.randomUUID(),
          contentType: 'application/octet-stream',
          type: '$>',
          data: `${e.revision}@${e.streamId}`,
          metadata: undefined,
        } as unknown as EventData,
      ]);
    }
    this.projectedUpTo = last.position.commit;
    if (checkpoint) {
      const at = Number(this.projectedUpTo);
      this.write(BY_CATEGORY_CHECKPOINT_STREAM, [
        {
          id: crypto.randomUUID(),
          contentType: 'application/json',
          type: '$ProjectionCheckpoint',
          data: {},
          metadata: { $v: '1:-1:0:1', $c: at, $p: at },
        },
      ]);
    }
  }

  /** Removes a stream's events from the log, as a scavenge does after a hard delete (links to them stay). */
  scavenge(stream: string): void {
    this.streams.delete(stream);
    for (let i = this.log.length - 1; i >= 0; i--)
      if (this.log[i]?.streamId === stream) this.log.splice(i, 1);
  }

  /** Writes a server-side event (e.g. `$statsCollected`) that the adapter must hide. */
  systemEvent(stream: string, type: string): void {
    this.write(stream, [
      {
        id: crypto.randomUUID(),
        contentType: 'application/json',
        type,
        data: {},
        metadata: undefined,
      },
    ]);
  }

  /** Makes the server go away: live subscriptions fail with UnavailableError. */
  goDown(): void {
    this.down = true;
    for (const sub of this.live) sub.fail(new UnavailableError(undefined, 'Connection dropped'));
    this.live.clear();
  }

  private write(stream: string, events: EventData[]): Stored[] {
    const list = this.streams.get(stream) ?? [];
    this.streams.set(stream, list);
    return events.map((e) => {
      // Positions grow by the record size, so they are not contiguous.
      this.nextPosition += 37n + BigInt(JSON.stringify(e.data ?? null).length);
      const stored = {
        streamId: stream,
        id: e.id,
        revision: BigInt(list.length),
        type: e.type,
        created: new Date(),
        isJson: true,
        data: JSON.parse(JSON.stringify(e.data ?? null)) as never,
        metadata: (e.metadata === undefined
          ? undefined
          : JSON.parse(JSON.stringify(e.metadata))) as never,
        position: { commit: this.nextPosition, prepare: this.nextPosition },
      } as Stored;
      list.push(stored);
      this.log.push(stored);
      this.written.add(this.nextPosition);
      for (const sub of this.live) sub.push(stored);
      return stored;
    });
  }

  private append(
    stream: string,
    input: EventData | EventData[],
    options: Options = {},
  ): Promise<AppendResult> {
    if (this.down) return Promise.reject(rawUnavailable());
    if (this.failAppendsWith) return Promise.reject(this.failAppendsWith);
    const events = Array.isArray(input) ? input : [input];
    const list = this.streams.get(stream) ?? [];
    const current = list.length === 0 ? NO_STREAM : BigInt(list.length - 1);
    const expected = options.expectedRevision ?? ANY;
    // The server's idempotency: the same ids already written right after the expected revision.
    if (typeof expected === 'bigint' && current !== NO_STREAM && expected < current) {
      const already = list.slice(Number(expected) + 1, Number(expected) + 1 + events.length);
      if (already.length === events.length && already.every((s, i) => s.id === events[i]?.id)) {
        const last = already.at(-1) as Stored;
        return Promise.resolve({
          success: true,
          nextExpectedRevision: last.revision,
          position: last.position,
        });
      }
    }
    const ok =
      expected === ANY ||
      (expected === NO_STREAM && current === NO_STREAM) ||
      (expected === STREAM_EXISTS && current !== NO_STREAM) ||
      expected === current;
    if (!ok)
      return Promise.reject(
        new WrongExpectedVersionError(undefined, { streamName: stream, expected, current }),
      );
    const written = this.write(stream, events);
    if (this.projections === 'immediate') this.project();
    const last = written.at(-1) as Stored;
    return Promise.resolve({
      success: true,
      nextExpectedRevision: last.revision,
      position: last.position,
    });
  }

  private readStream(stream: string, options: Options = {}) {
    if (this.down) return streamingRead([], new UnavailableError(undefined, 'No connection'));
    const list = this.streams.get(stream);
    if (list === undefined) return streamingRead([], new StreamNotFoundError(undefined, stream));
    const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    const from = options.fromRevision ?? (options.direction === 'backwards' ? 'end' : 'start');
    let out: Stored[];
    if (options.direction === 'backwards') {
      const top = from === 'end' ? list.length - 1 : from === 'start' ? -1 : Number(from);
      out = list.slice(0, Math.min(top, list.length - 1) + 1).reverse();
    } else {
      const low = from === 'start' ? 0 : from === 'end' ? list.length : Number(from);
      out = list.slice(low);
    }
    const page = out.slice(0, max);
    this.eventsRead += page.length;
    return streamingRead(page.map((stored) => this.resolve(stored, options.resolveLinkTos)));
  }

  /** A stream read's item: a link resolved to its target when asked (no `event` when the target is gone). */
  private resolve(stored: Stored, resolveLinkTos = false) {
    if (!resolveLinkTos || stored.type !== '$>') return { event: stored };
    const [revision, ...rest] = (typeof stored.data === 'string' ? stored.data : '').split('@');
    const target = this.streams.get(rest.join('@'))?.[Number(revision)];
    return target === undefined ? { link: stored } : { event: target, link: stored };
  }

  private readAll(options: Options = {}) {
    if (this.down) return streamingRead([], new UnavailableError(undefined, 'No connection'));
    const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    const from = options.fromPosition ?? (options.direction === 'backwards' ? 'end' : 'start');
    // The server reads `$all` only from a record's position (or 0), not from any
    // offset; a scavenged record's position still reads (projections resume there).
    if (
      typeof from === 'object' &&
      from.commit !== 0n &&
      (from.commit !== from.prepare || !this.written.has(from.commit))
    )
      return streamingRead([], new Error(`Invalid $all position ${from.commit}/${from.prepare}`));
    let out: Stored[];
    if (options.direction === 'backwards') {
      out = this.log
        .filter((e) => from === 'end' || (from !== 'start' && e.position.commit <= from.commit))
        .reverse();
    } else {
      out = this.log.filter(
        (e) => from === 'start' || (from !== 'end' && e.position.commit >= from.commit),
      );
    }
    const page = out.slice(0, max);
    this.eventsRead += page.length;
    return streamingRead<AllStreamResolvedEvent>(page.map((event) => ({ event })));
  }

  private subscribeToAll(options: Options = {}) {
    const readable = new Readable({ objectMode: true, read() {} }) as Readable & {
      unsubscribe(): Promise<void>;
    };
    const from = options.fromPosition ?? 'start';
    const sub = {
      push: (event: Stored) => {
        if (passes(options.filter, event)) readable.push({ event });
      },
      fail: (error: Error) => readable.destroy(error),
    };
    readable.unsubscribe = () => {
      this.live.delete(sub);
      if (!readable.destroyed) readable.push(null);
      return Promise.resolve();
    };
    if (this.down) {
      queueMicrotask(() => sub.fail(new UnavailableError(undefined, 'No connection')));
      return readable;
    }
    for (const event of this.log)
      if (from === 'start' || (from !== 'end' && event.position.commit >= from.commit))
        sub.push(event);
    this.live.add(sub);
    return readable;
  }

  /** The client the adapter talks to. */
  client(): EsdbClient {
    return {
      appendToStream: this.append.bind(this),
      readStream: this.readStream.bind(this),
      readAll: this.readAll.bind(this),
      subscribeToAll: this.subscribeToAll.bind(this),
      dispose: () => Promise.resolve(),
    };
  }
}
