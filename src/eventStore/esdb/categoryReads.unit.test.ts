// Whole-category reads served from `$ce-` streams (categoryReads.ts), against the
// fake server's `$by_category` projection: the same pages as the walk of `$all`,
// for far fewer events read, whatever the projection's lag; the walk when the
// projection is not there.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventFilter, EventStore, ReadAllOptions, RecordedEvent } from '../types.js';
import { checkpointPosition, wholeCategories } from './categoryReads.js';
import { createEsdbEventStore } from './eventStore.js';
import { FakeEsdbServer, type FakeProjections } from './fakeEsdbClient.testing.js';

const DEFINITIONS: EventFilter = { streamPrefix: ['gate-', 'stage-'] };
// The same events, but `gate-1` is not a whole category: served by the walk.
const WALKED: EventFilter = { streamPrefix: ['gate-', 'stage-', 'gate-1'] };

function open(projections: FakeProjections): {
  server: FakeEsdbServer;
  store: EventStore;
  warnings: string[];
} {
  const server = new FakeEsdbServer(projections);
  server.systemEvent('$stats-127.0.0.1:2113', '$statsCollected');
  const warnings: string[] = [];
  const store = createEsdbEventStore(server.client(), {
    description: 'fake',
    warn: (message) => warnings.push(message),
  });
  return { server, store, warnings };
}

/**
 * Per round, 100 unit events in 10 streams, then 2 gate and 1 stage events; with
 * `server`, its projection runs after each round (as a live projection follows the log).
 */
async function fill(
  store: EventStore,
  rounds = 15,
  { from = 0, server }: { from?: number; server?: FakeEsdbServer } = {},
): Promise<void> {
  for (let round = from; round < from + rounds; round++) {
    for (let u = 0; u < 10; u++)
      await store.append(
        `unit-${round}-${u}`,
        Array.from({ length: 10 }, (_, i) => ({ type: 'ReceiptRecorded.v1', data: { i } })),
      );
    await store.append(`gate-${round % 7}`, [
      { type: 'GateDefined.v1', data: { round } },
      { type: 'GateDefined.v1', data: { round, again: true } },
    ]);
    await store.append(`stage-${round % 3}`, [{ type: 'StageDefined.v1', data: { round } }]);
    server?.project();
  }
}

/** Every page of a read, paged with the last position as the next `from`. */
async function pages(
  store: EventStore,
  filter: EventFilter,
  direction: 'forwards' | 'backwards',
  maxCount: number,
  start: 'start' | 'end' | bigint = direction === 'forwards' ? 'start' : 'end',
): Promise<RecordedEvent[][]> {
  const out: RecordedEvent[][] = [];
  let from = start;
  for (;;) {
    const page = await store.readAll({ from, direction, maxCount, filter });
    out.push(page);
    const last = page.at(-1);
    if (page.length < maxCount || last === undefined) return out;
    from = last.position;
  }
}

/** Events read from the server by `work`. */
async function cost(server: FakeEsdbServer, work: () => Promise<unknown>): Promise<number> {
  const before = server.eventsRead;
  await work();
  return server.eventsRead - before;
}

/** Asserts that category reads and the walk agree on several pagings. */
async function assertSameAsWalk(store: EventStore): Promise<void> {
  for (const direction of ['forwards', 'backwards'] as const)
    for (const maxCount of [4, 1000])
      assert.deepEqual(
        await pages(store, DEFINITIONS, direction, maxCount),
        await pages(store, WALKED, direction, maxCount),
        `${direction}, maxCount ${maxCount}`,
      );
  // From positions inside the log (definitions and others: the loader resumes at
  // the head), both ways.
  const definitions = (await store.readAll({ filter: WALKED })).map((e) => e.position);
  const everything = (await store.readAll({ maxCount: 100_000 })).map((e) => e.position);
  const starts = [
    definitions[0],
    definitions[Math.floor(definitions.length / 2)],
    definitions.at(-1),
    everything[Math.floor(everything.length / 3)],
    everything.at(-1),
  ].filter((at): at is bigint => at !== undefined);
  for (const from of starts)
    for (const direction of ['forwards', 'backwards'] as const)
      assert.deepEqual(
        await pages(store, DEFINITIONS, direction, 10, from),
        await pages(store, WALKED, direction, 10, from),
        `${direction} from ${from}`,
      );
}

describe('esdb category reads ($ce- streams)', () => {
  it('recognises whole categories only', () => {
    assert.deepEqual(wholeCategories({ streamPrefix: ['gate-', 'stage-', 'gate-'] }), [
      'gate',
      'stage',
    ]);
    assert.equal(wholeCategories({ streamPrefix: ['gate-', 'unit-42'] }), undefined);
    assert.equal(wholeCategories({ streamPrefix: ['gate'] }), undefined);
    assert.equal(wholeCategories({ streamPrefix: ['a-b-'] }), undefined);
    assert.equal(wholeCategories({ streamPrefix: ['-'] }), undefined);
    assert.equal(wholeCategories({ streamPrefix: ['$ce-'] }), undefined);
    assert.equal(wholeCategories({ eventTypePrefix: ['Gate'] }), undefined);
    assert.equal(wholeCategories(undefined), undefined);
  });

  it('reads the position of the classic and the newer checkpoint formats', () => {
    const v1 = {
      type: '$ProjectionCheckpoint',
      data: {},
      metadata: { $v: '1:-1:0:1', $c: 42, $p: 42 },
    };
    assert.equal(checkpointPosition(v1), 42n);
    const v2 = {
      type: '$ProjectionCheckpoint.V2',
      data: { commitPosition: 7, preparePosition: 7 },
      metadata: undefined,
    };
    assert.equal(checkpointPosition(v2), 7n);
    assert.equal(checkpointPosition({ ...v1, metadata: { $ph: 1, $c: 42 } }), undefined);
    assert.equal(checkpointPosition({ ...v1, metadata: { $s: { a: 1 } } }), undefined);
    assert.equal(checkpointPosition({ ...v1, type: 'Other' }), undefined);
    assert.equal(checkpointPosition({ ...v1, metadata: { $c: -1, $p: -1 } }), undefined);
    assert.equal(checkpointPosition({ ...v1, metadata: { $c: 42, $p: 40 } }), undefined);
    assert.equal(checkpointPosition({ ...v1, metadata: { $c: 42 } }), undefined);
  });

  it('returns what the walk returns, reading far fewer events', async () => {
    const { server, store, warnings } = open('immediate');
    await fill(store);
    await assertSameAsWalk(store);
    const whole = await store.readAll({ filter: DEFINITIONS });
    assert.equal(whole.length, 45);
    assert.ok(whole.every((e) => /^(gate|stage)-\d$/.test(e.stream)));
    const byCategory = await cost(server, () => store.readAll({ filter: DEFINITIONS }));
    const walked = await cost(server, () => store.readAll({ filter: WALKED }));
    assert.ok(walked > 1500, `walk read ${walked}`);
    assert.ok(byCategory < 100, `category read ${byCategory} events, the walk ${walked}`);
    // A large category paged from its middle: a binary search on `$ce-unit`, then the page.
    const units: EventFilter = { streamPrefix: ['unit-'] };
    const unitsWalked: EventFilter = { streamPrefix: ['unit-', 'unit-1'] };
    const middle = (await store.readAll({ filter: unitsWalked, maxCount: 800 })).at(-1)?.position;
    assert.ok(middle !== undefined);
    for (const direction of ['forwards', 'backwards'] as const) {
      const options: ReadAllOptions = { from: middle, direction, maxCount: 10 };
      assert.deepEqual(
        await store.readAll({ ...options, filter: units }),
        await store.readAll({ ...options, filter: unitsWalked }),
      );
      const paged = await cost(server, () => store.readAll({ ...options, filter: units }));
      assert.ok(paged < 200, `${direction}: ${paged} events read for a page of 10`);
    }
    // What the definitions loader asks once it is current: nothing new, a few reads.
    const head = await store.headPosition();
    assert.deepEqual(await store.readAll({ from: head, maxCount: 500, filter: DEFINITIONS }), []);
    const current = await cost(server, () => store.readAll({ from: head, filter: DEFINITIONS }));
    assert.ok(current < 10, `${current} events read`);
    assert.deepEqual(warnings, []);
  });

  it('reports the linked events, not the links: their stream, revision and position', async () => {
    const { server, store } = open('immediate');
    await fill(store, 3);
    for (const event of await store.readAll({ filter: DEFINITIONS })) {
      const stored = server.streams.get(event.stream)?.[event.revision];
      assert.ok(stored, `${event.stream}@${event.revision}`);
      assert.equal(event.position, stored.position.commit);
      assert.notEqual(event.type, '$>');
    }
  });

  it('finds events the projection has not linked yet by walking past its watermark', async () => {
    const { server, store, warnings } = open('manual');
    await fill(store, 10, { server });
    // Appended after the checkpoint: not in `$ce-` yet.
    await fill(store, 2, { from: 10 });
    await store.append('gate-new', [{ type: 'GateDefined.v1', data: { late: true } }]);
    assert.ok((await store.readAll({ filter: DEFINITIONS })).some((e) => e.stream === 'gate-new'));
    await assertSameAsWalk(store);
    // Links written, checkpoint not yet: the newest link is the watermark.
    server.project({ checkpoint: false });
    await fill(store, 1, { from: 12 });
    await assertSameAsWalk(store);
    assert.deepEqual(warnings, []);
  });

  it('serves a category with no events yet when the projection has checkpointed', async () => {
    const { server, store, warnings } = open('manual');
    await fill(store, 5, { server });
    const filter: EventFilter = { streamPrefix: ['gate-', 'policy-'] };
    const expected = await store.readAll({
      filter: { streamPrefix: ['gate-', 'policy-', 'gate-1'] },
    });
    assert.equal(expected.length, 10);
    const walked = await cost(server, () => store.readAll({ filter: WALKED }));
    const read = await cost(server, () => store.readAll({ filter }));
    assert.ok(read * 4 < walked, `category read ${read} events, the walk ${walked}`);
    assert.deepEqual(await store.readAll({ filter }), expected);
    // A `policy-` event after the checkpoint is found by the walk of the tail.
    await store.append('policy-1', [{ type: 'PolicyDefined.v1', data: {} }]);
    assert.equal((await store.readAll({ filter })).at(-1)?.stream, 'policy-1');
    assert.deepEqual(warnings, []);
  });

  it('skips links whose target is gone', async () => {
    const { server, store } = open('manual');
    await fill(store, 7, { server });
    server.scavenge('gate-3');
    const events = await store.readAll({ filter: DEFINITIONS });
    assert.ok(events.length > 0);
    assert.ok(events.every((e) => e.stream !== 'gate-3'));
    await assertSameAsWalk(store);
    // Even when the newest link of a category is the one that does not resolve.
    await store.append('gate-9', [{ type: 'GateDefined.v1', data: {} }]);
    server.project();
    server.scavenge('gate-9');
    await assertSameAsWalk(store);
  });

  it('walks $all, warning once, when the projection does not run', async () => {
    const { server, store, warnings } = open('off');
    await fill(store, 3);
    await assertSameAsWalk(store);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /\$ce-gate, \$ce-stage fall back to walking \$all/);
    const walked = await cost(server, () => store.readAll({ filter: WALKED }));
    const fallback = await cost(server, () => store.readAll({ filter: DEFINITIONS }));
    // The fallback costs the walk plus the probes of the `$ce-` streams and the checkpoint.
    assert.ok(fallback >= walked, `${fallback} < ${walked}`);
    assert.equal(warnings.length, 1);
  });

  it('walks $all when a prefix is not a whole category', async () => {
    const { server, store } = open('manual');
    await fill(store, 5, { server });
    const filter: EventFilter = { streamPrefix: ['gate-', 'unit-4'] };
    const read = await cost(server, () => store.readAll({ filter }));
    assert.ok(read > 500, `read ${read}`);
    const events = await store.readAll({ filter });
    assert.ok(events.some((e) => e.stream.startsWith('unit-4')));
    assert.ok(events.some((e) => e.stream.startsWith('gate-')));
    assert.ok(events.every((e) => e.stream.startsWith('gate-') || e.stream.startsWith('unit-4')));
  });
});
