import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordedEvent } from '../eventStore/types.js';
import { Batches } from './batches.js';

const event = (position: number) => ({ position: BigInt(position) }) as RecordedEvent;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Yields events 1..n; `gapAfter` positions are followed by a pause of `gapMs`. */
async function* source(n: number, gapAfter: Set<number>, gapMs: number) {
  for (let i = 1; i <= n; i++) {
    yield event(i);
    if (gapAfter.has(i)) await sleep(gapMs);
  }
}

const positions = (batch: RecordedEvent[]) => batch.map((e) => Number(e.position));

describe('Batches', () => {
  it('cuts at the size, and at the window after a batch’s first event, losing nothing', async () => {
    const batches = new Batches(source(12, new Set([7]), 150), 5, 40);
    assert.deepEqual(positions(await batches.next()), [1, 2, 3, 4, 5]);
    assert.deepEqual(positions(await batches.next()), [6, 7]); // the window closes during the pause
    assert.deepEqual(positions(await batches.next()), [8, 9, 10, 11, 12]);
    assert.deepEqual(await batches.next(), []);
    assert.deepEqual(await batches.next(), []);
  });

  it('passes a failure of the source to the batch that awaits it', async () => {
    async function* failing() {
      yield event(1);
      await sleep(60);
      throw new Error('log closed');
    }
    const batches = new Batches(failing(), 10, 20);
    assert.deepEqual(positions(await batches.next()), [1]);
    await sleep(80); // fails while no batch awaits it: not an unhandled rejection
    await assert.rejects(batches.next(), /log closed/);
  });
});
