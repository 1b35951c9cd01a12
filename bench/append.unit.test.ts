// How the append benchmark times its interleaved cases (not how fast anything is).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runInterleaved } from './append.js';

/** Keeps the thread busy for `ms` (a stand-in for work left pending by a case). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('append benchmark: interleaved batches', () => {
  it('charges work a case leaves pending to that case, not to the next case that yields', async () => {
    const appended: Record<string, number[]> = { leaves: [], yields: [] };
    const rates = await runInterleaved(
      {
        // Synchronous, like a raw transaction, but leaves 20 ms of work for the event loop.
        leaves: () => ({
          append: (from) => {
            appended.leaves?.push(from);
            setImmediate(() => busy(20));
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
    // Each rate is 300 events over that case's timed sections: the 60 ms of
    // pending work belongs in the first case's.
    const leavesSeconds = 300 / (rates.leaves ?? Infinity);
    const yieldsSeconds = 300 / (rates.yields ?? Infinity);
    assert.ok(leavesSeconds >= 0.06, `leaves: ${leavesSeconds} s`);
    assert.ok(yieldsSeconds < 0.03, `yields: ${yieldsSeconds} s`);
  });
});
