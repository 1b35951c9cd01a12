// Ingest end to end on a durable SQLite file behind a real loopback socket:
// CDEvents samples (v0.4 and v0.5, written from the spec) become receipts, a
// redelivery returns the original result, and receipts arriving through every
// ingest path (binary emitter, batch, JUnit) pass a stage's last gate, which
// appends `StagePassed.v1` to the unit's stream; a failing report reopens it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CloudEvent, Mode, emitterFor, httpTransport } from 'cloudevents';
import type { FastifyInstance } from 'fastify';
import { createDomainService, type DomainService } from '../../src/application/index.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import type { ReceiptOutcome } from '../../src/application/index.js';
import type { BatchReport } from '../../src/http/ingestReply.js';

const fixtures = fileURLToPath(new URL('../fixtures/cdevents/', import.meta.url));
const UNIT = 'libfoo/2.0.0/1.el9/x86_64/rpm';
const SOURCE = 'https://ci.example.com/pipelines/libfoo';

interface LogPage {
  events: { type: string; stream: string; data: Record<string, unknown> }[];
  next: string | null;
}

describe('ingest end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-ingest-e2e-'));
  let store: SQLiteEventStore;
  let domain: DomainService;
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    store = getSQLiteEventStore({ path: join(dir, 'provenant.db') });
    domain = createDomainService({ eventStore: store });
    app = await buildApp({
      auth: anonymousAuth(),
      store,
      domain,
      storeDescription: 'sqlite e2e',
      ownsStore: true,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const postJson = async <T>(path: string, contentType: string, body: string) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  for (const version of ['v0.4', 'v0.5'])
    it(`turns every CDEvents ${version} sample into a receipt, once`, async () => {
      const files = readdirSync(join(fixtures, version)).filter((f) => f.endsWith('.json'));
      assert.ok(files.length >= 8, `samples for ${version}`);
      // v0.4 through the SDK's binary emitter, v0.5 as the structured bytes on disk.
      const emit = emitterFor(httpTransport(`${base}/v1/events`), { mode: Mode.BINARY });
      for (const file of files) {
        const text = readFileSync(join(fixtures, version, file), 'utf8');
        const sample = JSON.parse(text) as { id: string; type: string; source: string };
        const send = async (): Promise<ReceiptOutcome> =>
          version === 'v0.4'
            ? (JSON.parse(
                ((await emit(new CloudEvent(sample))) as { body: string }).body,
              ) as ReceiptOutcome)
            : (await postJson<ReceiptOutcome>('/v1/events', 'application/cloudevents+json', text))
                .body;
        const outcome = await send();
        assert.equal(outcome.kind, 'receipt', `${version}/${file}: ${JSON.stringify(outcome)}`);
        assert.equal(outcome.duplicate, false, file);
        const stored = (await store.readStream(outcome.stream)).events.find(
          (e) => e.id === outcome.eventId,
        );
        assert.equal(stored?.type, 'ReceiptRecorded.v1', file);
        const data = stored?.data as { receiptId: string; unit: string; origin: { type: string } };
        assert.equal(data.receiptId, outcome.receiptId);
        assert.equal(data.origin.type, sample.type, file);
        assert.equal(stored?.metadata.context?.id, sample.id);

        const head = await store.headPosition();
        assert.deepEqual(await send(), { ...outcome, duplicate: true }, `${file} redelivered`);
        assert.equal(await store.headPosition(), head, `${file}: a redelivery appends nothing`);
      }
    });

  it('passes a stage when its last gate passes, and reopens it on a failing report', async () => {
    await domain.defineGate('built', { requiredActions: ['build'] });
    await domain.defineGate('tested', { requiredActions: ['unit-test', 'integration-test'] });
    await domain.defineStage('release', { gates: ['built', 'tested'] });

    // A build receipt through the SDK's binary emitter: the first gate passes.
    const emit = emitterFor(httpTransport(`${base}/v1/events`), { mode: Mode.BINARY });
    const build = JSON.parse(
      (
        (await emit(
          new CloudEvent({
            id: 'build-1',
            source: SOURCE,
            type: 'dev.provenant.receipt.v1',
            data: { unit: UNIT, action: 'build', multipass: true },
          }),
        )) as { body: string }
      ).body,
    ) as ReceiptOutcome;
    assert.deepEqual(
      build.verdicts.map((v) => [v.type, v.gateId ?? v.stageId]),
      [['GatePassed.v1', 'built']],
    );

    // A passing JUnit report for unit-test: `tested` still waits for integration-test.
    const junit = await fetch(
      `${base}/v1/units/${encodeURIComponent(UNIT)}/actions/unit-test/junit`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/xml' },
        body: '<testsuite name="u" tests="2"><testcase name="a"/><testcase name="b"/></testsuite>',
      },
    );
    assert.equal(junit.status, 201);
    assert.deepEqual(((await junit.json()) as ReceiptOutcome).verdicts, []);

    // The integration-test receipt in a batch passes the last gate: StagePassed.
    const batch = await postJson<BatchReport>(
      '/v1/events',
      'application/cloudevents-batch+json',
      JSON.stringify([
        {
          specversion: '1.0',
          id: 'it-1',
          source: SOURCE,
          type: 'dev.provenant.receipt.v1',
          data: { unit: UNIT, action: 'integration-test', multipass: true },
        },
      ]),
    );
    assert.equal(batch.status, 200);
    const [item] = batch.body.results;
    assert.ok(item?.ok);
    const passed = (item.result as ReceiptOutcome).verdicts;
    assert.deepEqual(
      passed.map((v) => [v.type, v.gateId ?? v.stageId]),
      [
        ['GatePassed.v1', 'tested'],
        ['StagePassed.v1', 'release'],
      ],
    );

    // The log says so too, read through the HTTP API.
    const readUnitLog = async (): Promise<LogPage['events']> => {
      const res = await fetch(
        `${base}/v1/events?stream_prefix=${encodeURIComponent(`unit-${UNIT}`)}&limit=1000`,
      );
      assert.equal(res.status, 200);
      return ((await res.json()) as LogPage).events;
    };
    const stagePassed = (await readUnitLog()).filter((e) => e.type === 'StagePassed.v1');
    assert.equal(stagePassed.length, 1);
    assert.equal(stagePassed[0]?.data['stageId'], 'release');
    assert.deepEqual(
      [...(stagePassed[0]?.data['receiptIds'] as string[])].sort(),
      [...(passed[1]?.receiptIds ?? [])].sort(),
    );

    // A failing unit-test report supersedes the passing one: the gate fails, the stage reopens.
    const failing = await fetch(
      `${base}/v1/units/${encodeURIComponent(UNIT)}/actions/unit-test/junit`,
      {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: '<testsuite name="u" tests="2"><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>',
      },
    );
    assert.equal(failing.status, 201);
    assert.deepEqual(
      ((await failing.json()) as ReceiptOutcome).verdicts.map((v) => [
        v.type,
        v.gateId ?? v.stageId,
      ]),
      [
        ['GateFailed.v1', 'tested'],
        ['StageReopened.v1', 'release'],
      ],
    );
    const types = (await readUnitLog()).map((e) => e.type);
    assert.ok(types.includes('StageReopened.v1'));
    assert.equal((await store.verifyStream(`unit-${UNIT}`)).ok, true);
  });

  it('refuses an attribute or Content-Type sent twice, never one joined value', async () => {
    // fetch joins repeated headers; node:http sends each value as a header line of its own.
    const post = (headers: OutgoingHttpHeaders, body: string) =>
      new Promise<{ status: number; body: { code?: string; detail?: string } }>(
        (resolve, reject) => {
          const req = httpRequest(`${base}/v1/events`, { method: 'POST', headers }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as never }),
            );
          });
          req.on('error', reject).end(body);
        },
      );
    const head = await store.headPosition();
    const receipt = JSON.stringify({ unit: UNIT, action: 'twice', multipass: true });
    const binary = {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-source': SOURCE,
      'ce-type': 'dev.provenant.receipt.v1',
    };
    const twoIds = await post({ ...binary, 'ce-id': ['a', 'b'] }, receipt);
    assert.equal(twoIds.status, 400, JSON.stringify(twoIds.body));
    assert.equal(twoIds.body.code, 'INGEST_BAD_ATTRIBUTE');
    assert.match(twoIds.body.detail ?? '', /Header ce-id was sent more than once/);
    const twoTypes = await post(
      { 'content-type': ['application/cloudevents+json', 'text/plain'] },
      JSON.stringify({
        specversion: '1.0',
        id: 'twice-1',
        source: SOURCE,
        type: 'dev.provenant.receipt.v1',
        data: JSON.parse(receipt) as unknown,
      }),
    );
    assert.equal(twoTypes.status, 415, JSON.stringify(twoTypes.body));
    assert.match(twoTypes.body.detail ?? '', /Header content-type was sent more than once/);
    assert.equal(await store.headPosition(), head, 'nothing was stored');
    // Sent once, the same attribute is taken.
    assert.equal((await post({ ...binary, 'ce-id': 'once' }, receipt)).status, 201);
  });
});
