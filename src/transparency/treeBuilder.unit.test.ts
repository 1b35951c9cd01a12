// The leaf text is the canonical JSON of the whole stored record, assembled
// without canonicalising the data twice.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalize } from '../encoding/canonicalJson.js';
import { toEventJson } from '../eventStore/eventJson.js';
import type { RecordedEvent } from '../eventStore/types.js';
import { leafText } from './treeBuilder.js';

describe('leaf text', () => {
  it('is canonicalize(toEventJson(event)) for any stored event', () => {
    fc.assert(
      fc.property(
        fc.record({
          id: fc.string(),
          type: fc.string(),
          stream: fc.string(),
          revision: fc.nat(),
          position: fc.bigInt({ min: 1n, max: 2n ** 63n }),
          recordedAt: fc.string(),
          data: fc.jsonValue(),
          extra: fc.dictionary(fc.string(), fc.jsonValue()),
        }),
        ({ extra, ...e }) => {
          const event = {
            ...e,
            metadata: { ...extra, contentDigest: 'a'.repeat(64), prevDigest: '0'.repeat(64) },
          } as RecordedEvent;
          assert.equal(leafText(event), canonicalize(toEventJson(event)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
