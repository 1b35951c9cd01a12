import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isReceiptId } from '../domain/names.js';
import { uuidV5 } from '../eventStore/ids.js';
import { newReceiptId, receiptIdFromCloudEvent } from './receiptIds.js';

describe('receipt ids', () => {
  it('uuidV5 matches the RFC 9562 test vector', () => {
    // RFC 9562 Appendix A.4: DNS namespace, "www.example.com".
    assert.equal(
      uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'),
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('derives the same id for the same CloudEvent source + id, and different ids otherwise', () => {
    const a = receiptIdFromCloudEvent('/ci/jenkins', 'ev-1');
    assert.equal(receiptIdFromCloudEvent('/ci/jenkins', 'ev-1'), a);
    assert.notEqual(receiptIdFromCloudEvent('/ci/jenkins', 'ev-2'), a);
    assert.notEqual(receiptIdFromCloudEvent('/ci/jenkin', 'sev-1'), a);
    assert.ok(isReceiptId(a));
  });

  it('generates increasing ULIDs otherwise', () => {
    const first = newReceiptId();
    const second = newReceiptId();
    assert.ok(isReceiptId(first) && isReceiptId(second));
    assert.ok(second > first);
  });
});
