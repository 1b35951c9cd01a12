// What load tests that kill or stop a server check of its log afterwards: every
// CloudEvent the server acknowledged is stored, and none is stored twice.
import assert from 'node:assert/strict';
import type { EventStore } from '../../src/eventStore/types.js';

/** How many times each CloudEvent id (`metadata.context.id`) is in the log. */
export async function storedCloudEventIds(store: EventStore): Promise<Map<string, number>> {
  const stored = new Map<string, number>();
  let from: bigint | 'start' = 'start';
  for (;;) {
    const page = await store.readAll({ from, maxCount: 1000 });
    for (const event of page) {
      const id = event.metadata.context?.id;
      if (id !== undefined) stored.set(id, (stored.get(id) ?? 0) + 1);
    }
    const last = page.at(-1);
    if (last === undefined || page.length < 1000) return stored;
    from = last.position;
  }
}

/** Asserts that every id in `acknowledged` is in the log exactly once, and no id twice; the counts. */
export async function assertStoredOnce(
  store: EventStore,
  acknowledged: Iterable<string>,
  when: string,
): Promise<Map<string, number>> {
  const stored = await storedCloudEventIds(store);
  assert.deepEqual(
    [...acknowledged].filter((id) => !stored.has(id)),
    [],
    `acknowledged events missing ${when}`,
  );
  assert.deepEqual(
    [...stored].filter(([, count]) => count !== 1),
    [],
    `events stored twice ${when}`,
  );
  return stored;
}
