import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { count } from './shared.js';

describe('count', () => {
  it('names one thing in the singular, any other number in the plural, with grouped digits', () => {
    assert.equal(count(1, 'event'), '1 event');
    assert.equal(count(1n, 'event'), '1 event');
    assert.equal(count(0, 'event'), '0 events');
    assert.equal(count(2, 'event'), '2 events');
    assert.equal(count(1_200_000n, 'event'), '1,200,000 events');
    assert.equal(count(1, 'signed copy', 'signed copies'), '1 signed copy');
    assert.equal(count(4, 'signed copy', 'signed copies'), '4 signed copies');
  });
});
