// How the append benchmark times its interleaved cases (not how fast anything is).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runInterleaved } from './append.js';

/** Keeps the thread busy for `ms` (a stand-in for work left pending by a case). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Work each `leaves` append leaves for the event loop (ms). */
const PENDING_MS = 50;

describe('append benchmark: interleaved batches', () => {
  it('charges work a case leaves pending to that case, not to the next case that yields', async () => {
    const appended: Record<string, number[]> = { leaves: [], yields: [] };
    const rates = await runInterleaved(
      {
        // Synchronous, like a raw transaction, but leaves work for the event loop.
        leaves: () => ({
          append: (from) => {
            appended.leaves?.push(from);
            setImmediate(() => busy(PENDING_MS));
          },
          close: () => {},
        }),
        // Yields to the event loop once, like the port's group commit.
        yields: () => ({
          append: async (from) => {
            appended.yields?.push(from);
            await new Promise((resolve) => setImmediate(resolve));
          },
          close: () => {},
        }),
      },
      3,
      100,
    );
    assert.deepEqual(appended, { leaves: [0, 100, 200], yields: [0, 100, 200] });
    // Each rate is 300 events over that case's timed sections: the 3 × 50 ms of
    // pending work belongs in the first case's. Charged to the second, it would
    // take all of it; the bound, half of it, leaves room for a loaded machine
    // (a bound of 30 ms against 60 ms of pending work failed under CI's load).
    const pending = (3 * PENDING_MS) / 1000;
    const leavesSeconds = 300 / (rates.leaves ?? Infinity);
    const yieldsSeconds = 300 / (rates.yields ?? Infinity);
    assert.ok(leavesSeconds >= pending, `leaves: ${leavesSeconds} s`);
    assert.ok(yieldsSeconds < pending / 2, `yields: ${yieldsSeconds} s`);
  });
});
