// `provenant verify --artifact FILE --stage ID --store URL` as a child process:
// the release gate for tooling that holds the artifact and not its unit. The
// VSA is found through the attestation index (GET /v1/attestations?digest=):
// valid once a unit built from the artifact passed the stage; invalid for an
// artifact no VSA names; could-not-check against a store without read models;
// a usage error without --store; with --export, the export's VSA.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import type { ProjectionRunner } from '../../src/readModels/index.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import { anonymousAuth } from '../../src/security/index.js';
import {
  ARTIFACT,
  UNIT,
  fixture,
  fixtureQueryApp,
  issueStagePassedVsa,
  passRelease,
  type Fixture,
} from '../support/attestations.js';
import { runCli } from '../support/cli.js';
import { exportUnit } from '../../src/application/export/exportUnit.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-verify-artifact-'));

describe('provenant verify --artifact (the VSA found by the artifact digest)', () => {
  let f: Fixture;
  let runner: ProjectionRunner;
  let app: FastifyInstance;
  let bare: FastifyInstance;
  let url: string;
  let bareUrl: string;
  let vsaId: string;
  const key = join(dir, 'pub.pem');
  const artifact = join(dir, 'openssl.rpm');

  before(async () => {
    f = await fixture();
    writeFileSync(key, f.pair.publicKeyPem);
    writeFileSync(artifact, ARTIFACT);
    const readModels = getSQLiteReadModelStore({ path: ':memory:' });
    ({ app, runner } = await fixtureQueryApp(f, readModels));
    bare = await buildApp({
      auth: anonymousAuth(),
      store: f.store,
      domain: f.domain,
      attestations: f.attestations,
      storeDescription: 'sqlite :memory:',
    });
    await passRelease(f.domain);
    vsaId = (await issueStagePassedVsa(f)).attestationId;
    const head = await f.store.headPosition();
    await runner.start();
    const deadline = Date.now() + 10_000;
    while (((await readModels.getCheckpoint('attestationIndex')) ?? 0n) < head) {
      assert.ok(Date.now() < deadline, 'the attestation index caught up');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await runner.stop();
    await app.close();
    await bare.close();
    await f.store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = (what: string, store: string, ...more: string[]) =>
    runCli([
      'verify',
      '--artifact',
      what,
      '--stage',
      'release',
      '--key',
      key,
      '--store',
      store,
      ...more,
    ]);

  it('finds the VSA of the unit built from the artifact and verifies it', async () => {
    const ok = await verify(artifact, url);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(
      ok.stdout,
      new RegExp(`^VALID: VSA ${vsaId} of ${UNIT.replaceAll('/', '\\/')} for stage release`),
    );
    assert.match(ok.stdout, /ok {3}evidence: 2 receipt\(s\)/);
    const json = await verify(artifact, url, '--json');
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout) as {
      attestationId: string;
      unit: string;
      result: string;
    };
    assert.deepEqual([report.result, report.attestationId, report.unit], ['valid', vsaId, UNIT]);
  });

  it('is invalid for an artifact no VSA names, could-not-check without read models, a usage error without --store', async () => {
    const other = await verify(`sha256:${'0'.repeat(64)}`, url, '--json');
    assert.equal(other.status, 1, other.stdout + other.stderr);
    const checks = (JSON.parse(other.stdout) as { checks: { code?: string; message: string }[] })
      .checks;
    assert.equal(checks[0]?.code, 'VERIFY_NO_ATTESTATION');
    assert.match(
      checks[0]?.message ?? '',
      /No VSA for stage release names the artifact sha256:0{64}/,
    );

    const noIndex = await verify(artifact, bareUrl);
    assert.equal(noIndex.status, 3, noIndex.stdout + noIndex.stderr);
    assert.match(noIndex.stdout, /QUERY_READ_MODELS_UNAVAILABLE/);

    const usage = await runCli([
      'verify',
      '--artifact',
      artifact,
      '--stage',
      'release',
      '--key',
      key,
    ]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--artifact FILE --stage ID with --store URL or --export DIR/);
  });

  it('with --export instead of --store: the VSA of the export for the stage, which must name the artifact', async () => {
    const out = join(dir, 'export');
    await exportUnit(f.store, UNIT, { out, publicKeys: [f.pair.publicKeyPem] });
    const gate = (what: string) =>
      runCli(['verify', '--artifact', what, '--stage', 'release', '--key', key, '--export', out]);
    const ok = await gate(artifact);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, new RegExp(`^VALID: VSA ${vsaId} of `));
    const other = await gate(`sha256:${'0'.repeat(64)}`);
    assert.equal(other.status, 1, other.stdout + other.stderr);
  });
});
