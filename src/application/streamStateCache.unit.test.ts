import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStreamStateCache } from './streamStateCache.js';

describe('stream state cache', () => {
  it('keeps at most maxStreams streams, dropping the least recently used', () => {
    const cache = createStreamStateCache<string>({ maxStreams: 2 });
    cache.set('a', { state: 'A', revision: 0 });
    cache.set('b', { state: 'B', revision: 0 });
    assert.equal(cache.get('a')?.state, 'A'); // a is now more recent than b
    cache.set('c', { state: 'C', revision: 0 });
    assert.equal(cache.get('b'), undefined);
    assert.deepEqual(cache.get('a'), { state: 'A', revision: 0 });
    assert.equal(cache.get('c')?.state, 'C');
    assert.equal(cache.size, 2);
  });

  it('bounds the events folded into all states together, and never keeps a stream longer than that', () => {
    const cache = createStreamStateCache<string>({ maxStreams: 100, maxEvents: 10 });
    cache.set('a', { state: 'A', revision: 5 }); // 6 events
    cache.set('b', { state: 'B', revision: 2 }); // 3 events: 9 in all
    assert.equal(cache.size, 2);
    cache.set('c', { state: 'C', revision: 1 }); // 2 more: a (least recent) goes
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('b')?.state, 'B');
    // A stream grown past the bound is dropped, not left behind at its old revision.
    cache.set('b', { state: 'B2', revision: 10 });
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('c')?.state, 'C');
  });

  it('forgets a stream on delete, and caches nothing when turned off', () => {
    const cache = createStreamStateCache<number>();
    cache.set('s', { state: 1, revision: 3 });
    cache.delete('s');
    assert.equal(cache.get('s'), undefined);
    const off = createStreamStateCache<number>({ maxStreams: 0 });
    off.set('s', { state: 1, revision: 0 });
    assert.equal(off.get('s'), undefined);
    assert.throws(() => createStreamStateCache({ maxEvents: -1 }), RangeError);
  });
});
