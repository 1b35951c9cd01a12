// Requests for the CloudEvents parser's tests (src/ingest/cloudEvents*.unit.test.ts):
// the SDK's emitted messages, structured and batch bodies, a valid event, and the
// error code a request is rejected with.
import { parseCloudEventsRequest, type CloudEventsRequest } from '../../src/ingest/cloudEvents.js';
import { resolveIngestLimits } from '../../src/ingest/limits.js';
import { codeOf } from './errors.js';

// The SDK's own emitters produce { headers, body } with a string or Buffer body.
export const fromSdk = (message: { headers: object; body: unknown }): CloudEventsRequest => ({
  headers: message.headers as CloudEventsRequest['headers'],
  body: Buffer.isBuffer(message.body) ? message.body : Buffer.from(String(message.body), 'utf8'),
});
export const structured = (event: unknown): CloudEventsRequest => ({
  headers: { 'Content-Type': 'application/cloudevents+json; charset=utf-8' },
  body: Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)),
});
export const batch = (events: unknown): CloudEventsRequest => ({
  headers: { 'content-type': 'application/cloudevents-batch+json' },
  body: Buffer.from(typeof events === 'string' ? events : JSON.stringify(events)),
});
export const valid = {
  specversion: '1.0',
  id: 'evt-1',
  source: 'https://ci.example.com/pipelines/42',
  type: 'com.example.pipeline.started',
  time: '2024-05-01T12:00:00Z',
  data: { run: 42 },
};

export const rejectionOf = (request: CloudEventsRequest, limits = resolveIngestLimits()): string =>
  codeOf(() => parseCloudEventsRequest(request, limits));
