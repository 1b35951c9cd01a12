import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJsonMediaType, isTextMediaType, isUtf8Charset, parseMediaType } from './mediaType.js';

describe('parseMediaType', () => {
  it('parses essence and parameters, lower-casing names', () => {
    const media = parseMediaType('Application/CloudEvents+JSON; Charset="UTF-8"; q=1');
    assert.deepEqual(
      { ...media, parameters: { ...media?.parameters } },
      {
        essence: 'application/cloudevents+json',
        type: 'application',
        subtype: 'cloudevents+json',
        parameters: { charset: 'UTF-8', q: '1' },
      },
    );
    assert.ok(media !== undefined && isJsonMediaType(media) && isUtf8Charset(media));
    const xml = parseMediaType('application/junit+xml');
    assert.ok(xml !== undefined && isTextMediaType(xml) && !isJsonMediaType(xml));
  });

  it('rejects values that are not media types', () => {
    for (const bad of [
      'json',
      'text/',
      '/plain',
      'a b/c',
      'text/plain; charset',
      'text/plain; x="y',
    ])
      assert.equal(parseMediaType(bad), undefined, bad);
  });

  it('remembers parses: the same frozen result again, and misses stay misses', () => {
    const first = parseMediaType('application/json; charset=utf-8');
    assert.ok(first !== undefined);
    assert.equal(parseMediaType('application/json; charset=utf-8'), first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.parameters));
    assert.throws(() => {
      (first.parameters as Record<string, string>)['charset'] = 'latin1';
    }, TypeError);
    assert.equal(parseMediaType('not a type'), undefined);
    assert.equal(parseMediaType('not a type'), undefined);
  });

  it('keeps working past the cache bound, and for long values it does not keep', () => {
    for (let i = 0; i < 600; i++)
      assert.equal(parseMediaType(`application/x-${i}+json`)?.subtype, `x-${i}+json`);
    const long = `text/plain; p="${'v'.repeat(400)}"`;
    assert.equal(parseMediaType(long)?.parameters['p'], 'v'.repeat(400));
    assert.equal(parseMediaType(long)?.parameters['p'], 'v'.repeat(400));
  });
});
