// The EventStoreDB/KurrentDB adapter against a live server: the conformance suite
// runs when EVENTSTORE_CONNECTION_STRING is set (e.g. `docker compose up -d
// eventstore`, then EVENTSTORE_CONNECTION_STRING='esdb://localhost:2113?tls=false').
// Without it the suite is reported as skipped, with the reason, not as passed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getEventStoreDBEventStore } from '../../src/eventStore/esdb/index.js';
import type { AllPosition, EventFilter } from '../../src/eventStore/types.js';
import { eventStoreConformance } from './conformance.js';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString === undefined || connectionString === '') {
  const reason = 'EVENTSTORE_CONNECTION_STRING is not set (run: docker compose up -d eventstore)';
  console.log(`# esdb conformance skipped: ${reason}`);
  describe('event store conformance: esdb (live KurrentDB)', { skip: reason }, () => {
    it('runs against a live server');
  });
} else {
  const open = () =>
    Promise.resolve(
      getEventStoreDBEventStore({
        connectionString,
        ...(process.env.EVENTSTORE_USERNAME !== undefined && {
          username: process.env.EVENTSTORE_USERNAME,
        }),
        ...(process.env.EVENTSTORE_PASSWORD !== undefined && {
          password: process.env.EVENTSTORE_PASSWORD,
        }),
        ...(process.env.EVENTSTORE_CA_FILE !== undefined && {
          tlsCaFile: process.env.EVENTSTORE_CA_FILE,
        }),
      }),
    );
  // No tamper quirk: a KurrentDB log cannot be edited in place, so that test is skipped.
  eventStoreConformance('esdb (live KurrentDB)', { createStore: open });

  // Whole-category filters are served from `$ce-` streams when the server runs the
  // system projections (docs/kurrentdb.md, "Category reads"); either way, and
  // whatever the projection's lag, they must return what the walk returns.
  describe('esdb (live KurrentDB): category reads', () => {
    it('return what the walk of $all returns', async () => {
      const store = await open();
      try {
        const category = `cat${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
        for (const id of ['a', 'b', 'c'])
          await store.append(`${category}-${id}`, [
            { type: 'Defined.v1', data: { id } },
            { type: 'Defined.v1', data: { id, again: true } },
          ]);
        const byCategory: EventFilter = { streamPrefix: [`${category}-`] };
        const walked: EventFilter = { streamPrefix: [`${category}-`, `${category}-a`] };
        for (let round = 0; round < 3; round++) {
          for (const direction of ['forwards', 'backwards'] as const) {
            const expected = await store.readAll({ direction, filter: walked });
            assert.equal(expected.length, 6);
            assert.deepEqual(await store.readAll({ direction, filter: byCategory }), expected);
            const paged = [];
            let from: AllPosition = direction === 'forwards' ? 'start' : 'end';
            for (;;) {
              const page = await store.readAll({
                from,
                direction,
                maxCount: 4,
                filter: byCategory,
              });
              paged.push(...page);
              const last = page.at(-1);
              if (page.length < 4 || last === undefined) break;
              from = last.position;
            }
            assert.deepEqual(paged, expected);
          }
          // Again once the projection has had time to link the events.
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      } finally {
        await store.close();
      }
    });
  });
}
