// GET /v1/units/:key/export: the unit's export as a .tar.gz that verifies
// offline, recorded as UnitExported.v1; problem+json for a bad or unknown key.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { verifyExport } from '../../src/application/export/index.js';
import { createDomainService } from '../../src/application/index.js';
import { EventTypes, unitStreamName, type UnitExportedData } from '../../src/domain/index.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import type { EventStore } from '../../src/eventStore/types.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import { LocalKeySigner, generateSigningKeyPair } from '../../src/provenance/signing/index.js';
import { issueLocally } from '../support/localAttestations.js';
import { definePipeline, passingReceipts } from '../support/pipeline.js';

const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';

let store: EventStore;
let app: FastifyInstance;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'provenant-http-export-'));
  store = getSQLiteEventStore({ path: ':memory:' });
  const service = createDomainService({ eventStore: store });
  const pair = generateSigningKeyPair();
  const signer = LocalKeySigner.fromPem(pair.privateKeyPem);
  await definePipeline(service);
  for (const receipt of passingReceipts(UNIT)) await service.recordReceipt(receipt);
  await issueLocally(store, UNIT, { signer, kind: 'provenance' });
  await issueLocally(store, UNIT, { signer, kind: { vsaOf: 'release' } });
  app = await buildApp({
    auth: anonymousAuth(),
    store,
    domain: service,
    storeDescription: 'test',
    attestationPublicKeys: [pair.publicKeyPem],
  });
});
after(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /v1/units/:key/export', () => {
  it('returns a .tar.gz that verifies offline, and records the export', async () => {
    const response = await app.inject({
      method: 'GET',
      url: `/v1/units/${encodeURIComponent(UNIT)}/export`,
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['content-type'], 'application/gzip');
    assert.match(
      String(response.headers['content-disposition']),
      /attachment; filename="openssl_3\.2\.1_2\.el9_x86_64_rpm\.export\.tar\.gz"/,
    );
    const file = join(dir, 'unit.tar.gz');
    writeFileSync(file, response.rawPayload);
    const result = await verifyExport(file);
    assert.deepEqual(result.problems, []);
    assert.equal(result.checked.attestations, 2);
    assert.equal(result.manifestSha256, response.headers['x-provenant-manifest-sha256']);
    const { events } = await store.readStream(unitStreamName(UNIT));
    assert.equal(events.at(-1)?.type, EventTypes.UnitExported);
    assert.equal((events.at(-1)?.data as UnitExportedData).manifestDigest, result.manifestSha256);
  });

  it('answers problem+json for a malformed or unknown unit, and leaves the status route alone', async () => {
    const bad = await app.inject({ method: 'GET', url: '/v1/units/not-a-key/export' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ code: string }>().code, 'DOMAIN_INVALID_UNIT_KEY');
    const unknown = await app.inject({
      method: 'GET',
      url: `/v1/units/${encodeURIComponent('nope/1/1/x86_64/rpm')}/export`,
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json<{ code: string }>().code, 'DOMAIN_UNIT_NOT_FOUND');
    const status = await app.inject({ method: 'GET', url: `/v1/units/${UNIT}` });
    assert.equal(status.statusCode, 200);
  });
});
