// Finding units by package URL in the read models (issue 18):
// `GET /v1/units?purl=` (the unit a purl names; without a version, every
// version), `?type=&name=`, and the canonical purl and NVRPP in each item.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { projections } from '../../projections/index.js';
import { createDomainService } from '../../src/application/index.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { createProjectionRunner, type ProjectionRunner } from '../../src/readModels/index.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import { anonymousAuth } from '../../src/security/index.js';

const HEX = 'ef'.repeat(32);
const RPM = 'openssl/3.2.1/2.el9/x86_64/rpm';
const IMAGE = `pkg:oci/shop-api@sha256:${HEX}`;
const NPM_1 = 'pkg:npm/%40acme/ui@1.0.0';
const NPM_2 = 'pkg:npm/%40acme/ui@2.0.0';

interface Item {
  unit: string;
  purl?: string;
  nvrpp?: string;
}

describe('GET /v1/units by purl, type and name', () => {
  let app: FastifyInstance;
  let runner: ProjectionRunner;
  let head = 0n;

  before(async () => {
    const store = getSQLiteEventStore({ path: ':memory:' });
    const domain = createDomainService({ eventStore: store });
    const readModels = getSQLiteReadModelStore({ path: ':memory:' });
    runner = createProjectionRunner({
      eventStore: store,
      readModels,
      projections,
      batchWindowMs: 5,
    });
    app = await buildApp({
      auth: anonymousAuth(),
      store,
      domain,
      storeDescription: 'sqlite :memory:',
      readModels,
      ownsStore: true,
      query: { waitMs: 5000, pollMs: 5 },
    });
    for (const unit of [RPM, IMAGE, NPM_1, NPM_2]) {
      const result = await domain.recordReceipt({ unit, action: 'build', multipass: true });
      head = BigInt(result.position);
    }
    await runner.start();
  });
  after(async () => {
    await runner.stop();
    await app.close();
  });

  const list = async (query: string): Promise<Item[]> => {
    const res = await app.inject(`/v1/units?${query}&minPosition=${head}`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ items: Item[] }>().items;
  };
  const units = async (query: string): Promise<string[]> =>
    (await list(query)).map((i) => i.unit).sort();

  it('?purl= with a version finds the unit, an RPM purl its NVRPP unit', async () => {
    assert.deepEqual(await units(`purl=${encodeURIComponent(IMAGE + '?tag=v1')}`), [IMAGE]);
    const rpm = await list(
      `purl=${encodeURIComponent('pkg:rpm/redhat/openssl@3.2.1-2.el9?arch=x86_64')}`,
    );
    assert.deepEqual(rpm, [
      {
        ...rpm[0],
        unit: RPM,
        purl: 'pkg:rpm/openssl@3.2.1-2.el9?arch=x86_64',
        nvrpp: RPM,
      },
    ]);
  });

  it('?purl= without a version finds every version', async () => {
    assert.deepEqual(await units(`purl=${encodeURIComponent('pkg:npm/%40acme/ui')}`), [
      NPM_1,
      NPM_2,
    ]);
  });

  it('?type= and ?name= work for both forms', async () => {
    assert.deepEqual(await units('type=npm'), [NPM_1, NPM_2]);
    assert.deepEqual(await units('type=rpm&name=openssl'), [RPM]);
    assert.deepEqual(await units('type=oci&name=shop-api'), [IMAGE]);
    const image = (await list('type=oci'))[0];
    assert.equal(image?.purl, IMAGE);
    assert.equal(image?.nvrpp, undefined);
  });

  it('a malformed purl is a 400 with its own code', async () => {
    const res = await app.inject(`/v1/units?purl=${encodeURIComponent('pkg:npm/a@1?arch')}`);
    assert.equal(res.statusCode, 400);
    assert.equal(res.json<{ code: string }>().code, 'DOMAIN_INVALID_PURL');
  });

  it("a purl's qualifiers sent unencoded are refused, not dropped for another unit's answer", async () => {
    // `?arch=x86_64` would arrive as the query string, leaving the key of another unit.
    const res = await app.inject('/v1/units/pkg:rpm/openssl@3.2.1-2.el9?arch=x86_64');
    assert.equal(res.statusCode, 400, res.body);
    const body = res.json<{ code: string; detail: string }>();
    assert.equal(body.code, 'DOMAIN_INVALID_UNIT_KEY');
    const hint = /Send the key URL-encoded as one segment: (\S+)$/.exec(body.detail)?.[1];
    assert.equal(hint, '/v1/units/pkg%3Arpm%2Fopenssl%403.2.1-2.el9%3Farch%3Dx86_64');
    // As the refusal says, the same key is the unit.
    const encoded = await app.inject(hint);
    assert.equal(encoded.statusCode, 200, encoded.body);
    assert.equal(encoded.json<{ unit: string }>().unit, RPM);
    // The route's own parameter stays in the query string of the path to send.
    const asOf = await app.inject(`/v1/units/pkg:rpm/openssl@3.2.1-2.el9?arch=x86_64&asOf=${head}`);
    assert.equal(asOf.statusCode, 400, asOf.body);
    assert.match(
      asOf.json<{ detail: string }>().detail,
      new RegExp(
        `one segment: /v1/units/pkg%3Arpm%2Fopenssl%403\\.2\\.1-2\\.el9%3Farch%3Dx86_64\\?asOf=${head}$`,
      ),
    );
    // A parameter the route does not take is refused for any key.
    const other = await app.inject(`/v1/units/${RPM}?colour=red`);
    assert.equal(other.statusCode, 400, other.body);
    assert.equal(other.json<{ code: string }>().code, 'HTTP_VALIDATION');
  });
});
