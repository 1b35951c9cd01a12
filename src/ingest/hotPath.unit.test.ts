// The ingest hot path does its one-time work once: every JSON Schema is compiled
// at module load, never per request, whatever the mode or the kind of event.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ingestAjv } from './ajv.js';
import { ingestRequest } from './classify.js';
import type { CloudEventsRequest } from './cloudEvents.js';
import { RECEIPT_EVENT_TYPE } from './receipt.js';

const HEX = 'e'.repeat(64);
const receipt = {
  unit: 'openssl/3.2.1/2.el9/x86_64/rpm',
  action: 'build',
  multipass: true,
  artifacts: [{ uri: 'https://repo.example.com/o.rpm', digest: { sha256: HEX } }],
  evidence: [
    { uri: 'https://ci.example.com/r.xml', digest: { sha256: HEX }, mediaType: 'text/xml' },
  ],
};
const event = (id: string, type = RECEIPT_EVENT_TYPE, data: unknown = receipt): object => ({
  specversion: '1.0',
  id,
  source: 'https://ci.example.com/p/1',
  type,
  time: '2024-05-01T12:00:00Z',
  datacontenttype: 'application/json',
  data,
});
const cdevent = readFileSync(
  new URL('../../test/fixtures/cdevents/v0.5/build_finished.json', import.meta.url),
);
const requests: CloudEventsRequest[] = [
  {
    headers: { 'content-type': 'application/cloudevents+json' },
    body: Buffer.from(JSON.stringify(event('s-1'))),
  },
  { headers: { 'content-type': 'application/cloudevents+json' }, body: cdevent },
  {
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'b-1',
      'ce-source': '/x',
      'ce-type': RECEIPT_EVENT_TYPE,
    },
    body: Buffer.from(JSON.stringify(receipt)),
  },
  {
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    body: Buffer.from(
      JSON.stringify([
        event('a-1'),
        event('a-2', 'com.example.deploy.started', { env: 'prod' }),
        event('a-3', RECEIPT_EVENT_TYPE, { ...receipt, multipass: 'yes' }),
        { ...event('a-4'), specversion: '0.3' },
        event('a-5', 'dev.cdevents.build.finished.0.3.0', { context: {} }),
      ]),
    ),
  },
];

describe('ingest hot path', () => {
  const calls: string[] = [];
  const spied = ['compile', 'compileAsync', 'addSchema', 'getSchema', 'validate'] as const;
  const originals = new Map<string, unknown>();
  before(() => {
    for (const name of spied) {
      const original = Reflect.get(ingestAjv, name) as (...args: unknown[]) => unknown;
      originals.set(name, original);
      Object.assign(ingestAjv, {
        [name]: (...args: unknown[]) => {
          calls.push(name);
          return original.apply(ingestAjv, args);
        },
      });
    }
  });
  after(() => {
    for (const name of spied) Object.assign(ingestAjv, { [name]: originals.get(name) });
  });

  it('compiles no schema per request: structured, CDEvent, binary, batch, valid or not', () => {
    const outcomes = requests.flatMap((request) =>
      ingestRequest(request).results.map((r) => (r.ok ? r.command.kind : r.error.code)),
    );
    assert.deepEqual(outcomes, [
      'receipt',
      'receipt',
      'receipt',
      'receipt',
      'pipeline-event',
      'INGEST_INVALID_RECEIPT',
      'INGEST_BAD_SPECVERSION',
      'INGEST_CDEVENT_INVALID',
    ]);
    assert.deepEqual(calls, []);
    // The spies are live: a lookup now would be seen.
    ingestAjv.getSchema('https://provenant.dev/schemas/receipt.v1.json');
    assert.deepEqual(calls, ['getSchema']);
  });
});
