// The app over a REAL loopback socket for the ingest tests
// (test/http/ingest*.int.test.ts): an in-memory SQLite store, the receipt
// CloudEvents they send, and a POST that reads the reply's status, content type
// and JSON body.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { DomainService } from '../../src/application/index.js';
import type { SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { openManagementApp } from './managementApi.js';

export const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
export const SOURCE = 'https://ci.example.com/pipelines/openssl';
export const RECEIPT_TYPE = 'dev.provenant.receipt.v1';
export const STRUCTURED = 'application/cloudevents+json';
export const BATCH = 'application/cloudevents-batch+json';

export interface Reply<T = unknown> {
  status: number;
  contentType: string;
  body: T;
}

export const receiptEvent = (
  id: string,
  data: Record<string, unknown> = {},
): Record<string, unknown> => ({
  specversion: '1.0',
  id,
  source: SOURCE,
  type: RECEIPT_TYPE,
  time: '2024-05-01T12:00:00Z',
  datacontenttype: 'application/json',
  data: { unit: UNIT, action: 'build', multipass: true, ...data },
});

export interface LoopbackIngest {
  store: SQLiteEventStore;
  /** The domain the app records with (`wrap`'s, if one was given). */
  domain: DomainService;
  app: FastifyInstance;
  /** `http://127.0.0.1:<port>` */
  base: string;
}

/**
 * Builds the app on a fresh in-memory store, with the real domain service or what
 * `wrap` makes of it, and listens on a loopback port. The caller closes `app`.
 */
export async function listenIngest(
  wrap: (real: DomainService) => DomainService = (real) => real,
): Promise<LoopbackIngest> {
  const { store, domain, app } = await openManagementApp(wrap);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { store, domain, app, base };
}

/** POSTs to the app at `base()` (read at each call: the app listens in a `before`). */
export function poster(base: () => string): {
  post: <T = unknown>(
    path: string,
    headers: Record<string, string>,
    body: string | Uint8Array,
  ) => Promise<Reply<T>>;
  postStructured: <T = unknown>(event: unknown) => Promise<Reply<T>>;
} {
  async function post<T = unknown>(
    path: string,
    headers: Record<string, string>,
    body: string | Uint8Array,
  ): Promise<Reply<T>> {
    const res = await fetch(`${base()}${path}`, { method: 'POST', headers, body });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      body: (text === '' ? undefined : JSON.parse(text)) as T,
    };
  }

  const postStructured = <T = unknown>(event: unknown): Promise<Reply<T>> =>
    post<T>('/v1/events', { 'content-type': STRUCTURED }, JSON.stringify(event));
  return { post, postStructured };
}
