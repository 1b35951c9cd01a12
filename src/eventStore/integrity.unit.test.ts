import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalize } from '../encoding/canonicalJson.js';
import {
  ZERO_DIGEST,
  contentDigest,
  contentDigestOfCanonical,
  contentText,
  contentTextOf,
  eventDigest,
} from './integrity.js';
import { decodeTime, encodeTime } from 'ulid';
import { createUlidFactory, isUlid, newEventId, ulidToUuid, uuidToUlid, uuidV5 } from './ids.js';

describe('integrity fields', () => {
  it('content text is the canonical JSON of { type, data, context }', () => {
    const data = { z: 1, a: [true, null, 'é'], m: { y: 2, b: 1 } };
    const context = { source: '/ci', id: '1', type: 't' };
    assert.equal(contentText('T.v1', data, context), canonicalize({ type: 'T.v1', data, context }));
    assert.equal(
      contentText('T', 1, undefined),
      canonicalize({ type: 'T', data: 1, context: null }),
    );
  });

  it('content digest is SHA-256 of that text, in hex', () => {
    const expected = createHash('sha256')
      .update('{"context":null,"data":{"a":1},"type":"T"}')
      .digest('hex');
    assert.equal(contentDigest('T', { a: 1 }, undefined), expected);
  });

  it('content digest from canonical data hashes the UTF-8 bytes of the content text, at any size', () => {
    const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
    const datas = [
      { a: 1 },
      'plain',
      { text: 'é ü — 日本 😀', escapes: '"\\\n\u0001', lone: '\ud800 and \udfff' },
      // Texts of tens of KiB: ASCII, then 3-byte characters.
      { big: 'x'.repeat(21_800) },
      { big: 'x'.repeat(70_000) },
      { big: '日'.repeat(21_840) },
      { big: '日'.repeat(30_000) },
      { after: 'a big one' },
    ];
    const contexts = [undefined, { source: '/ci/é', id: '1', type: 't' }];
    for (const data of datas)
      for (const context of contexts)
        for (const type of ['T.v1', 'Typ "quoted" ü']) {
          const canonical = canonicalize(data);
          const expected = sha256(contentTextOf(type, canonical, context));
          assert.equal(contentDigestOfCanonical(type, canonical, context), expected);
          assert.equal(
            contentDigest(type, data, context),
            sha256(contentText(type, data, context)),
          );
        }
  });

  it('event digest hashes the raw bytes of prevDigest then contentDigest', () => {
    const content = 'ab'.repeat(32);
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.alloc(32), Buffer.from(content, 'hex')]))
      .digest('hex');
    assert.equal(eventDigest(ZERO_DIGEST, content), expected);
  });

  it('event digest decodes any hex as Buffer.from does, damaged digests included', () => {
    const reference = (prev: string, content: string) =>
      createHash('sha256')
        .update(Buffer.from(prev + content, 'hex'))
        .digest('hex');
    const good = 'ab'.repeat(32);
    // Upper case, a non-hex character, odd and wrong lengths: what a damaged row can hold.
    const odd = [good.toUpperCase(), `zz${good.slice(2)}`, good.slice(1), `${good}00`, '', good];
    for (const prev of odd)
      for (const content of odd) assert.equal(eventDigest(prev, content), reference(prev, content));
  });
});

describe('event ids', () => {
  it('are monotonic ULIDs, even within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newEventId(1_700_000_000_000));
    assert.ok(ids.every(isUlid));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('draw a fresh random part in each millisecond', () => {
    const randomParts = Array.from({ length: 2000 }, (_, i) =>
      newEventId(1_800_000_000_000 + i).slice(10),
    );
    // 80 random bits each: any repeat means the random source is broken.
    assert.equal(new Set(randomParts).size, randomParts.length);
    // Every Crockford character shows up in every position of the random part.
    for (let position = 0; position < 16; position++)
      assert.equal(new Set(randomParts.map((part) => part[position])).size, 32);
  });

  it('encode the time as the ulid package does, and decode with it', () => {
    const next = createUlidFactory();
    for (const ms of [1, 31, 32, 2 ** 40 - 1, 2 ** 40, 1_700_000_000_000, 2 ** 48 - 1]) {
      const id = next(ms);
      assert.ok(isUlid(id), id);
      assert.equal(id.slice(0, 10), encodeTime(ms, 10));
      assert.equal(decodeTime(id), ms);
    }
  });

  it('keep increasing when the clock goes back, and refuse times a ULID cannot hold', () => {
    const next = createUlidFactory();
    const first = next(1_700_000_000_500);
    const afterStep = next(1_700_000_000_000);
    assert.ok(afterStep > first);
    assert.equal(decodeTime(afterStep), 1_700_000_000_500);
    // 0 too: the package would read it as "now".
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 48, Number.POSITIVE_INFINITY])
      assert.throws(() => next(bad), RangeError);
    assert.ok(next(1_700_000_000_500) > afterStep, 'a refused time leaves the factory usable');
  });

  it('name-based UUIDs (v5) match RFC 9562 and do not depend on earlier calls', () => {
    const dns = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
    // RFC 9562 Appendix A.4, and Python's uuid5(NAMESPACE_DNS, 'python.org').
    assert.equal(uuidV5(dns, 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
    assert.equal(uuidV5(dns, 'python.org'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
    assert.equal(uuidV5(dns.toUpperCase(), 'python.org'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
    assert.equal(uuidV5(dns, 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
    // UTF-8 names: the bytes of 'é' are hashed, not its UTF-16 code unit.
    assert.equal(uuidV5(dns, 'é'), uuidV5(dns, '\u00e9'));
    assert.notEqual(uuidV5(dns, 'é'), uuidV5(dns, 'e\u0301'));
    assert.throws(() => uuidV5('not-a-uuid', 'x'), /Not a UUID/);
  });

  it('map to UUIDs and back losslessly', () => {
    assert.equal(ulidToUuid('00000000000000000000000000'), '00000000-0000-0000-0000-000000000000');
    assert.equal(ulidToUuid('7ZZZZZZZZZZZZZZZZZZZZZZZZZ'), 'ffffffff-ffff-ffff-ffff-ffffffffffff');
    assert.equal(ulidToUuid('01ARZ3NDEKTSV4RRFFQ69G5FAV'), '01563e3a-b5d3-d676-4c61-efb99302bd5b');
    for (let i = 0; i < 200; i++) {
      const id = newEventId();
      assert.equal(uuidToUlid(ulidToUuid(id)), id);
    }
    assert.throws(() => ulidToUuid('not-a-ulid'), /Not a ULID/);
    assert.throws(() => uuidToUlid('zzzz'), /Not a UUID/);
  });
});
