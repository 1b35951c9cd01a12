// For the application's recording tests (src/application/*.int.test.ts): the
// EventStore port with the calls that show what was read counted, receipts as
// ingest sends them, and checks of a `recordReceipts` item.
import assert from 'node:assert/strict';
import type { ReceiptInput } from '../../src/domain/receiptInput.js';
import { isProvenantError, type ErrorCode } from '../../src/errors.js';
import type { EventStore, ReadAllOptions, RecordedEvent } from '../../src/eventStore/types.js';
import type { RecordReceiptsItem, RecordReceiptResult } from '../../src/application/index.js';

export const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
export const OTHER = 'zlib/1.3/1.el9/x86_64/rpm';
export const stream = (unit: string): string => `unit-${unit}`;

export const receipt = (
  action: string,
  multipass: boolean,
  extra: Partial<ReceiptInput> = {},
): ReceiptInput => ({ unit: UNIT, action, multipass, ...extra });

/** A receipt as ingest sends it: from a CloudEvent, keyed by its source + id. */
export const fromCloudEvent = (id: string, input: ReceiptInput) => ({
  input: { ...input, origin: { source: '/ci', id, type: 'dev.provenant.receipt.v1' } },
  options: { idempotencyKey: `/ci#${id}`, metadata: { context: { source: '/ci', id } } },
});

/** The port, with the calls that matter here counted. */
export interface CountingStore extends EventStore {
  calls: { readStream: string[]; append: string[]; readAll: ReadAllOptions[]; head: number };
}

export function counting(store: EventStore): CountingStore {
  const calls: CountingStore['calls'] = { readStream: [], append: [], readAll: [], head: 0 };
  return {
    calls,
    append: (s, events, options) => {
      calls.append.push(s);
      return store.append(s, events, options);
    },
    readStream: (s, options) => {
      calls.readStream.push(s);
      return store.readStream(s, options);
    },
    readAll: (options) => {
      calls.readAll.push(options ?? {});
      return store.readAll(options);
    },
    headPosition: () => {
      calls.head++;
      return store.headPosition();
    },
    subscribeToAll: (options) => store.subscribeToAll(options),
    findByKey: (key) => store.findByKey(key),
    verifyStream: (s) => store.verifyStream(s),
    verifyAll: (options) => store.verifyAll(options),
    isReady: () => store.isReady(),
    close: () => store.close(),
  };
}

export const resetCalls = (store: CountingStore): void => {
  store.calls.readStream.length = 0;
  store.calls.append.length = 0;
  store.calls.readAll.length = 0;
  store.calls.head = 0;
};

export const ok = (item: RecordReceiptsItem | undefined): RecordReceiptResult => {
  assert.ok(item?.ok, `expected a result, got ${item?.ok === false ? String(item.error) : 'none'}`);
  return item.result;
};

export const failed = (item: RecordReceiptsItem | undefined, code: ErrorCode): void => {
  assert.ok(item !== undefined && !item.ok, 'expected an error');
  assert.ok(isProvenantError(item.error), String(item.error));
  assert.equal(item.error.code, code, item.error.message);
};

/** Type and data of a stream's events: what must not depend on how receipts were recorded. */
export const contents = (events: readonly RecordedEvent[]) =>
  events.map((e) => ({ type: e.type, data: e.data, context: e.metadata.context }));
