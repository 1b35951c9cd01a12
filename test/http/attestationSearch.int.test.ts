// `GET /v1/attestations?digest=`: attestations found by an artifact's digest
// through the attestation index (read model attestation_subjects), newest first;
// the filters, paging to the end, the bundle each item links to, bad input with
// its own code, and a server without read models. On SQLite read models, and on
// PostgreSQL ones when PROVENANT_TEST_POSTGRES_URL is set.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { type ProjectionRunner, type ReadModelStore } from '../../src/readModels/index.js';
import { getPostgresReadModelStore } from '../../src/readModels/postgres/index.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import { anonymousAuth } from '../../src/security/index.js';
import {
  ARTIFACT_SHA256,
  UNIT,
  fixture,
  fixtureQueryApp,
  issueStagePassedVsa,
  passRelease,
  type Fixture,
} from '../support/attestations.js';
import { postgresUrl, testSchema } from '../support/postgres.js';
import { problem, type PageBody } from '../support/queryFixture.js';

const OTHER = 'zlib/1.3/1.el9/x86_64/rpm';
const DIGEST = `sha256:${ARTIFACT_SHA256}`;

const backends: [string, () => ReadModelStore][] = [
  ['sqlite', () => getSQLiteReadModelStore({ path: ':memory:' })],
];
if (postgresUrl !== undefined) {
  const url = postgresUrl;
  const schema = testSchema(url, 'attsearch');
  backends.push(['postgres', () => getPostgresReadModelStore({ connectionString: url, schema })]);
} else
  console.log(
    '# GET /v1/attestations on postgres read models skipped: PROVENANT_TEST_POSTGRES_URL is not set',
  );

for (const [backend, openReadModels] of backends)
  describe(`GET /v1/attestations?digest= (${backend} read models)`, () => {
    let f: Fixture;
    let readModels: ReadModelStore;
    let runner: ProjectionRunner;
    let app: FastifyInstance;
    let head: bigint;
    const issued: Record<string, string> = {};

    before(async () => {
      f = await fixture();
      readModels = openReadModels();
      ({ app, runner } = await fixtureQueryApp(f, readModels));
      // Two units built from the same artifact: a VSA for each passed stage, and provenance.
      for (const [name, unit] of [
        ['unit', UNIT],
        ['other', OTHER],
      ] as const) {
        await passRelease(f.domain, unit);
        issued[`${name}Vsa`] = (await issueStagePassedVsa(f, unit)).attestationId;
        issued[`${name}Provenance`] = (
          await f.attestations.issueAttestation(unit, { kind: 'provenance' })
        ).attestationId;
      }
      head = await f.store.headPosition();
      await runner.start();
    });
    after(async () => {
      await runner.stop();
      await app.close();
      await readModels.close();
      await f.store.close();
    });

    const get = (query: string) =>
      app.inject({ method: 'GET', url: `/v1/attestations?${query}&minPosition=${head}` });
    const ids = (body: PageBody) => body.items.map((i) => i['attestationId']);

    it('finds every attestation naming the digest, newest first, with its bundle', async () => {
      const res = await get(`digest=${DIGEST}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(BigInt(String(res.headers['provenant-position'])) >= head);
      const body = res.json<PageBody>();
      assert.deepEqual(ids(body), [
        issued['otherProvenance'],
        issued['otherVsa'],
        issued['unitProvenance'],
        issued['unitVsa'],
      ]);
      assert.equal(body.next, null);
      const vsa = body.items[3] as Record<string, unknown>;
      assert.equal(vsa['unit'], UNIT);
      assert.equal(vsa['kind'], 'vsa');
      assert.equal(vsa['predicateType'], 'https://slsa.dev/verification_summary/v1');
      assert.deepEqual(vsa['stage'], { stageId: 'release', passed: true });
      assert.deepEqual(vsa['subject'], { name: 'openssl.rpm', digest: DIGEST });
      assert.equal((vsa['signer'] as { kind: string }).kind, 'key');
      const bundle = await app.inject({ method: 'GET', url: String(vsa['bundle']) });
      assert.equal(bundle.statusCode, 200, bundle.body);
      assert.equal((body.items[0] as Record<string, unknown>)['stage'], undefined);
    });

    it('filters by kind, predicate type, stage and verdict; a digest in upper case is the same', async () => {
      const list = async (query: string) => ids((await get(query)).json<PageBody>());
      const vsas = [issued['otherVsa'], issued['unitVsa']];
      const provenance = [issued['otherProvenance'], issued['unitProvenance']];
      assert.deepEqual(await list(`digest=${DIGEST}&kind=vsa`), vsas);
      assert.deepEqual(await list(`digest=${DIGEST}&kind=provenance`), provenance);
      assert.deepEqual(
        await list(
          `digest=${DIGEST}&predicateType=${encodeURIComponent('https://slsa.dev/provenance/v1')}`,
        ),
        provenance,
      );
      assert.deepEqual(await list(`digest=${DIGEST}&stage=release&passed=true`), vsas);
      assert.deepEqual(await list(`digest=${DIGEST}&stage=release&passed=false`), []);
      assert.deepEqual(await list(`digest=${DIGEST}&stage=qa`), []);
      assert.deepEqual(await list(`digest=sha256:${ARTIFACT_SHA256.toUpperCase()}&kind=vsa`), vsas);
      assert.deepEqual(await list(`digest=sha256:${'0'.repeat(64)}`), []);
      assert.deepEqual(await list(`digest=sha512:${ARTIFACT_SHA256}`), []);
    });

    it('pages with a cursor to the end', async () => {
      const seen: unknown[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await get(
          `digest=${DIGEST}&limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        );
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json<PageBody>();
        seen.push(...ids(body));
        cursor = body.next;
        pages++;
      } while (cursor !== null && pages < 10);
      assert.equal(pages, 2);
      assert.deepEqual(seen, ids((await get(`digest=${DIGEST}`)).json<PageBody>()));
    });

    it('answers bad input with its own code', async () => {
      problem(await get('digest=9f86d081'), 400, 'QUERY_BAD_DIGEST');
      problem(await get('digest=sha256:not-hex'), 400, 'QUERY_BAD_DIGEST');
      problem(await app.inject({ method: 'GET', url: '/v1/attestations' }), 400, 'HTTP_VALIDATION');
      problem(await get(`digest=${DIGEST}&kind=sbom`), 400, 'HTTP_VALIDATION');
      problem(await get(`digest=${DIGEST}&cursor=zzz`), 400, 'QUERY_BAD_CURSOR');
      problem(
        await app.inject({
          method: 'GET',
          url: `/v1/attestations?digest=${DIGEST}&minPosition=${head + 1000n}`,
        }),
        400,
        'QUERY_POSITION_BEYOND_HEAD',
      );
    });

    it('answers 503 on a server without read models', async () => {
      const bare = await buildApp({
        auth: anonymousAuth(),
        store: f.store,
        domain: f.domain,
        storeDescription: 'sqlite :memory:',
        attestations: f.attestations,
      });
      try {
        problem(
          await bare.inject({ method: 'GET', url: `/v1/attestations?digest=${DIGEST}` }),
          503,
          'QUERY_READ_MODELS_UNAVAILABLE',
        );
      } finally {
        await bare.close();
      }
    });
  });
