// Splicing the integrity fields into stored canonical metadata gives the
// canonical JSON of the metadata as read back, or nothing: never another text
// for metadata the store wrote.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalize } from '../encoding/canonicalJson.js';
import { withIntegrityFields } from './storedMetadata.js';

const integrity = { contentDigest: 'c'.repeat(64), prevDigest: '0'.repeat(64) };
const whole = (fields: Record<string, unknown>): string =>
  canonicalize({ ...fields, ...integrity });

describe('metadata with the integrity fields spliced in', () => {
  it('is the canonical JSON of the whole for the metadata the store writes', () => {
    for (const fields of [
      {},
      { principal: 'producer' },
      { a: 1 },
      { zz: [1, { prevDigest: 'nested' }] },
      {
        causationId: 'x',
        context: { id: '1', source: '/ci', type: 't' },
        correlationId: 'c-1',
        principal: 'p',
        traceparent: '00-abc',
      },
    ]) {
      const spliced = withIntegrityFields(canonicalize(fields), fields, integrity);
      assert.equal(spliced, whole(fields), JSON.stringify(fields));
    }
  });

  it('is that text for any metadata without an integrity name, nested names and escapes included', () => {
    const name = fc.oneof(fc.string(), fc.constantFrom('a', 'context', 'd', 'principal', 'q"\\'));
    const value = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(name, fc.jsonValue()), // members named like the top-level ones
    );
    fc.assert(
      fc.property(fc.dictionary(name, value), (fields) => {
        fc.pre(!Object.hasOwn(fields, 'contentDigest') && !Object.hasOwn(fields, 'prevDigest'));
        assert.equal(withIntegrityFields(canonicalize(fields), fields, integrity), whole(fields));
      }),
      { numRuns: 1000 },
    );
  });

  it('gives nothing for fields that already hold an integrity name, or a text that is no object', () => {
    const fields = { prevDigest: 'forged' };
    assert.equal(withIntegrityFields(canonicalize(fields), fields, integrity), undefined);
    assert.equal(withIntegrityFields('[]', {}, integrity), undefined);
  });
});
