// docs/oci-walkthrough.md, run: the same files (docs/examples/oci/*.json) in the
// same order as docs/examples/oci/walkthrough.sh — an OCI image built, tested,
// scanned and signed, each step a CDEvent or a receipt, and the release gate
// and stage passing for the image's unit, named by its digest.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { ChainBinder } from '../../src/application/chains/index.js';
import { createDomainService } from '../../src/application/index.js';
import { startChainBinding } from '../../src/composition.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';

const example = (name: string): string =>
  readFileSync(new URL(`../../docs/examples/oci/${name}.json`, import.meta.url), 'utf8');
const UNIT =
  'pkg:oci/shop-api@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08?repository_url=registry.example.com%2Fshop%2Fshop-api';

interface Status {
  unit: string;
  purl: string;
  nvrpp?: string;
  receipts: { action: string }[];
  gates: { gateId: string; recorded: { verdict: string } | null }[];
  stages: { stageId: string; recorded: { passed: boolean } | null }[];
}

describe('the OCI-image walkthrough (docs/oci-walkthrough.md)', () => {
  let app: FastifyInstance;
  let binder: ChainBinder;
  before(async () => {
    const store = getSQLiteEventStore({ path: ':memory:' });
    const domain = createDomainService({ eventStore: store });
    app = await buildApp({
      auth: anonymousAuth(),
      store,
      domain,
      storeDescription: 'sqlite',
      ownsStore: true,
    });
    binder = startChainBinding(store, domain);
  });
  after(async () => {
    await binder.stop();
    await app.close();
  });

  it('build → test → scan → sign → the release gate passes', async () => {
    const put = (url: string, name: string) =>
      app.inject({
        method: 'PUT',
        url,
        headers: { 'content-type': 'application/json' },
        payload: example(name),
      });
    assert.equal((await put('/v1/gates/release-gate', '01-gate')).statusCode, 201);
    assert.equal((await put('/v1/stages/release', '02-stage')).statusCode, 201);
    for (const step of ['03-build', '04-test', '05-scan', '06-sign']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'content-type': 'application/cloudevents+json' },
        payload: example(step),
      });
      // The test run names no image: a receipt at once if its chain is bound, else 202.
      assert.ok([201, 202].includes(res.statusCode), `${step}: ${res.body}`);
      const body = res.json<{ unit: string | null }>();
      if (res.statusCode === 201) assert.equal(body.unit, UNIT, step);
    }
    const url = `/v1/units/${encodeURIComponent(UNIT)}`;
    const deadline = Date.now() + 10_000;
    let status: Status;
    for (;;) {
      status = (await app.inject(url)).json<Status>();
      if (status.stages.some((s) => s.recorded?.passed === true)) break;
      assert.ok(Date.now() < deadline, `the stage did not pass: ${JSON.stringify(status)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(status.unit, UNIT);
    assert.equal(status.purl, UNIT);
    assert.equal(status.nvrpp, undefined);
    assert.deepEqual(status.receipts.map((r) => r.action).sort(), [
      'build',
      'image-scan',
      'sign',
      'test',
    ]);
    assert.equal(
      status.gates.find((g) => g.gateId === 'release-gate')?.recorded?.verdict,
      'passed',
    );
    assert.equal(status.stages.find((s) => s.stageId === 'release')?.recorded?.passed, true);
  });
});
