// The management API over a real loopback socket with fetch: define two gates and a
// stage, record receipts through the domain service (the ingest route is another
// path in), and watch the unit go pending → passed (StagePassed recorded by the
// store itself) → reopened after a revocation over HTTP (StageReopened).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createDomainService, type DomainService } from '../../src/application/index.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';

const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';

interface UnitStatusBody {
  unit: string;
  receipts: { receiptId: string; action: string; counted: boolean; revoked?: { reason: string } }[];
  gates: {
    gateId: string;
    recorded: { verdict: string } | null;
    current: { verdict: string } | null;
  }[];
  stages: {
    stageId: string;
    recorded: { passed: boolean; receiptIds: string[] } | null;
    current: { passed: boolean } | null;
  }[];
}

describe('management API over a loopback socket', () => {
  let app: FastifyInstance;
  let domain: DomainService;
  let base: string;

  before(async () => {
    const store = getSQLiteEventStore({ path: ':memory:' });
    domain = createDomainService({ eventStore: store });
    app = await buildApp({
      auth: anonymousAuth(),
      store,
      domain,
      storeDescription: 'sqlite :memory:',
      ownsStore: true,
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; type: string; json: Record<string, unknown> }> => {
    const res = await fetch(base + path, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      json: (await res.json()) as Record<string, unknown>,
    };
  };

  const status = async (path: string): Promise<UnitStatusBody> => {
    const res = await call('GET', path);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json as unknown as UnitStatusBody;
  };

  const stage = (s: UnitStatusBody) => s.stages.find((x) => x.stageId === 'release');

  it('goes pending → passed → reopened', async () => {
    // Definitions over HTTP.
    assert.equal(
      (await call('PUT', '/v1/gates/build', { requiredActions: ['build'] })).status,
      201,
    );
    assert.equal(
      (await call('PUT', '/v1/gates/tests', { requiredActions: ['unit-test', 'sast'] })).status,
      201,
    );
    const defined = await call('PUT', '/v1/stages/release', {
      name: 'Release',
      gates: ['build', 'tests'],
    });
    assert.equal(defined.status, 201);
    assert.deepEqual((defined.json['stage'] as { gates: string[] }).gates, ['build', 'tests']);
    const listed = await call('GET', '/v1/gates');
    assert.deepEqual(
      (listed.json['gates'] as { gateId: string }[]).map((g) => g.gateId),
      ['build', 'tests'],
    );

    // No receipts yet: the unit is unknown.
    const unknown = await call('GET', `/v1/units/${encodeURIComponent(UNIT)}`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.type, /^application\/problem\+json/);
    assert.equal(unknown.json['code'], 'DOMAIN_UNIT_NOT_FOUND');

    // Pending: build passed, the tests gate still misses sast.
    await domain.recordReceipt({ unit: UNIT, action: 'build', multipass: true });
    const unitTest = await domain.recordReceipt({
      unit: UNIT,
      action: 'unit-test',
      multipass: true,
    });
    const pending = await status(`/v1/units/${UNIT}`);
    assert.equal(pending.unit, UNIT);
    assert.equal(pending.gates.find((g) => g.gateId === 'build')?.recorded?.verdict, 'passed');
    assert.equal(pending.gates.find((g) => g.gateId === 'tests')?.current?.verdict, 'pending');
    assert.equal(stage(pending)?.recorded, null);
    assert.equal(stage(pending)?.current?.passed, false);

    // Passed: the last receipt completes the stage, and the store records StagePassed.
    const sast = await domain.recordReceipt({ unit: UNIT, action: 'sast', multipass: true });
    assert.deepEqual(
      sast.verdicts.map((v) => v.type),
      ['GatePassed.v1', 'StagePassed.v1'],
    );
    const passed = await status(`/v1/units/${encodeURIComponent(UNIT)}`);
    assert.equal(stage(passed)?.recorded?.passed, true);
    assert.ok(stage(passed)?.recorded?.receiptIds.includes(sast.receiptId));

    // Reopened: revoking a counted receipt over HTTP reopens the gate and the stage.
    const revoked = await call('POST', `/v1/receipts/${unitTest.receiptId}/revoke`, {
      reason: 'flaky runner; results not trustworthy',
    });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
    assert.deepEqual(
      (revoked.json['verdicts'] as { type: string }[]).map((v) => v.type),
      ['GateReopened.v1', 'StageReopened.v1'],
    );
    const reopened = await status(`/v1/units/${UNIT}`);
    assert.equal(stage(reopened)?.recorded?.passed, false);
    assert.equal(reopened.gates.find((g) => g.gateId === 'tests')?.recorded?.verdict, 'pending');
    const kept = reopened.receipts.find((r) => r.receiptId === unitTest.receiptId);
    assert.equal(kept?.revoked?.reason, 'flaky runner; results not trustworthy');
    assert.equal(kept?.counted, false);

    // Revoking twice is a conflict; the log holds every step in order.
    const twice = await call('POST', `/v1/receipts/${unitTest.receiptId}/revoke`, { reason: 'x' });
    assert.equal(twice.status, 409);
    assert.equal(twice.json['code'], 'DOMAIN_RECEIPT_ALREADY_REVOKED');
    const log = await call('GET', '/v1/events?stream_prefix=unit-&limit=100');
    assert.deepEqual(
      (log.json['events'] as { type: string }[]).map((e) => e.type),
      [
        'ReceiptRecorded.v1',
        'GatePassed.v1',
        'ReceiptRecorded.v1',
        'ReceiptRecorded.v1',
        'GatePassed.v1',
        'StagePassed.v1',
        'ReceiptRevoked.v1',
        'GateReopened.v1',
        'StageReopened.v1',
      ],
    );

    // A new receipt for the action passes the stage again; evaluate finds nothing to change.
    await domain.recordReceipt({ unit: UNIT, action: 'unit-test', multipass: true });
    const evaluated = await call('POST', `/v1/units/${UNIT}/evaluate`);
    assert.equal(evaluated.status, 200);
    assert.deepEqual(evaluated.json['verdicts'], []);
    assert.equal(stage(evaluated.json['status'] as UnitStatusBody)?.recorded?.passed, true);
  });
});
