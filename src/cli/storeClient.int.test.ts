// The store client of `provenant verify --store`, against a loopback server that
// answers as a broken or lying store would: an inclusion proof of a leaf at a
// position the store then says lies beyond its head is a finding about the
// store (a reason the receipt is not shown included), not "could not check".
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { storeClient } from './storeClient.js';

describe('storeClient log.inclusion', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((request, response) => {
      const json = (status: number, body: unknown, type = 'application/json') => {
        response.writeHead(status, { 'content-type': type });
        response.end(JSON.stringify(body));
      };
      const url = new URL(request.url ?? '/', 'http://x');
      if (url.pathname === '/v1/log/proof/inclusion')
        return json(200, { leafIndex: 0, position: '100', proof: [] });
      if (url.pathname === '/v1/events' && url.searchParams.get('after') === '99')
        return json(
          400,
          {
            code: 'QUERY_POSITION_BEYOND_HEAD',
            detail: 'after 99 is beyond the head of the log (5)',
          },
          'application/problem+json',
        );
      json(500, { code: 'UNEXPECTED', detail: request.url });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reports a leaf at a position beyond the head as the store’s answer', async () => {
    const found = await storeClient(base).log?.inclusion(0, 1);
    assert.equal(
      found,
      `${base} answers QUERY_POSITION_BEYOND_HEAD: after 99 is beyond the head of the log (5)`,
    );
  });
});
