import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EventTypes } from '../domain/events.js';
import type { ReceiptInput } from '../domain/receiptInput.js';
import { isProvenantError, type ErrorCode } from '../errors.js';
import { getSQLiteEventStore } from '../eventStore/sqlite/index.js';
import type { EventStore } from '../eventStore/types.js';
import { handleCommand } from './commandHandler.js';
import { createDomainService, type DomainService } from './index.js';

const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
const STREAM = `unit-${UNIT}`;

const receipt = (
  action: string,
  multipass: boolean,
  extra: Partial<ReceiptInput> = {},
): ReceiptInput => ({
  unit: UNIT,
  action,
  multipass,
  ...extra,
});

const rejectsWith = async (promise: Promise<unknown>, code: ErrorCode): Promise<void> => {
  await assert.rejects(promise, (error) => {
    assert.ok(isProvenantError(error), String(error));
    assert.equal(error.code, code, error.message);
    return true;
  });
};

let store: EventStore;
let service: DomainService;

beforeEach(() => {
  store = getSQLiteEventStore({ path: ':memory:' });
  service = createDomainService({ eventStore: store });
});
afterEach(async () => {
  await store.close();
});

const streamTypes = async (stream: string): Promise<string[]> =>
  (await store.readStream(stream)).events.map((e) => e.type);

async function defineReleasePipeline(): Promise<void> {
  await service.defineGate('quality', { requiredActions: ['build', 'unit-test'] });
  await service.defineGate('security', { requiredActions: ['sast'] });
  await service.defineStage('release', { gates: ['quality', 'security'] });
}

describe('domain service over SQLite', () => {
  it('records receipts, appending the receipt and its verdict changes in one append', async () => {
    await defineReleasePipeline();
    const first = await service.recordReceipt(receipt('build', true));
    assert.equal(first.duplicate, false);
    assert.deepEqual(first.verdicts, []);
    await service.recordReceipt(receipt('unit-test', true));
    const last = await service.recordReceipt(receipt('sast', true), {
      metadata: { principal: 'ci-bot' },
    });
    assert.deepEqual(
      last.verdicts.map((v) => [v.type, v.gateId ?? v.stageId]),
      [
        [EventTypes.GatePassed, 'security'],
        [EventTypes.StagePassed, 'release'],
      ],
    );
    const { events } = await store.readStream(STREAM);
    assert.deepEqual(
      events.map((e) => e.type),
      [
        EventTypes.ReceiptRecorded,
        EventTypes.ReceiptRecorded,
        EventTypes.GatePassed,
        EventTypes.ReceiptRecorded,
        EventTypes.GatePassed,
        EventTypes.StagePassed,
      ],
    );
    // One append: consecutive revisions, and the principal on every event of it.
    assert.deepEqual(
      events.slice(3).map((e) => e.metadata.principal),
      ['ci-bot', 'ci-bot', 'ci-bot'],
    );
    assert.equal(last.revision, 3);
    assert.equal(last.position, events[3]?.position.toString());
  });

  it('derives the receipt id from the CloudEvent and returns the original result on redelivery', async () => {
    await defineReleasePipeline();
    const input = receipt('sast', false, {
      origin: { source: '/ci/scanner', id: 'ce-42', type: 'dev.provenant.receipt.v1' },
    });
    const first = await service.recordReceipt(input, {
      metadata: { context: { source: '/ci/scanner', id: 'ce-42' } },
    });
    const again = await service.recordReceipt(input, {
      metadata: { context: { source: '/ci/scanner', id: 'ce-42' } },
    });
    assert.equal(again.receiptId, first.receiptId);
    assert.equal(again.duplicate, true);
    assert.equal(again.eventId, first.eventId);
    assert.deepEqual(again.verdicts, first.verdicts);
    assert.equal(first.verdicts[0]?.type, EventTypes.GateFailed);
    assert.equal((await store.readStream(STREAM)).events.length, 2);
    // Same CloudEvent, different content: a conflict, nothing appended.
    await rejectsWith(
      service.recordReceipt({ ...input, multipass: true }),
      'DOMAIN_RECEIPT_CONFLICT',
    );
    assert.equal((await store.readStream(STREAM)).events.length, 2);
  });

  it('honours an idempotency key for receipts without a CloudEvent origin', async () => {
    await defineReleasePipeline();
    const first = await service.recordReceipt(receipt('sast', true), {
      idempotencyKey: 'junit:run-7',
    });
    const again = await service.recordReceipt(receipt('sast', true), {
      idempotencyKey: 'junit:run-7',
    });
    assert.equal(again.duplicate, true);
    assert.equal(again.receiptId, first.receiptId);
    assert.deepEqual(again.verdicts, first.verdicts);
    assert.equal((await store.readStream(STREAM)).events.length, 2);
    await rejectsWith(
      service.recordReceipt(receipt('sast', false), { idempotencyKey: 'junit:run-7' }),
      'STORE_IDEMPOTENCY_CONFLICT',
    );
  });

  it('rejects a custom section that violates a gate schema and appends nothing', async () => {
    await service.defineGate('coverage', {
      requiredActions: ['unit-test'],
      customSchema: {
        type: 'object',
        properties: { coverage: { type: 'number', minimum: 80 } },
        required: ['coverage'],
      },
    });
    await rejectsWith(
      service.recordReceipt(receipt('unit-test', true, { custom: { coverage: 10 } })),
      'DOMAIN_CUSTOM_SCHEMA_VIOLATION',
    );
    assert.equal((await store.readStream(STREAM)).currentRevision, 'no_stream');
    await rejectsWith(
      service.recordReceipt(receipt('unit-test', true, { unit: 'bad/key' })),
      'DOMAIN_INVALID_UNIT_KEY',
    );
  });

  it('rejects a gate schema with a remote $ref and records no gate', async () => {
    await rejectsWith(
      service.defineGate('g', {
        requiredActions: ['x'],
        customSchema: { $ref: 'https://example.com/s.json' },
      }),
      'DOMAIN_INVALID_GATE_SCHEMA',
    );
    await rejectsWith(service.getGate('g'), 'DOMAIN_GATE_NOT_FOUND');
    assert.deepEqual(await service.listGates(), []);
  });

  it('revokes a receipt found by scanning $all, reopening the gate and the stage', async () => {
    await defineReleasePipeline();
    await service.recordReceipt(receipt('build', true));
    await service.recordReceipt(receipt('unit-test', true));
    const sast = await service.recordReceipt(receipt('sast', true));
    // Other units' receipts are in the log too.
    await service.recordReceipt(receipt('sast', true, { unit: 'zlib/1.3/1.el9/x86_64/rpm' }));
    const revoked = await service.revokeReceipt(sast.receiptId, 'scanner was misconfigured', {
      metadata: { principal: 'alice' },
    });
    assert.equal(revoked.unit, UNIT);
    assert.deepEqual(
      revoked.verdicts.map((v) => v.type),
      [EventTypes.GateReopened, EventTypes.StageReopened],
    );
    const { events } = await store.readStream(STREAM);
    const revocation = events.find((e) => e.type === EventTypes.ReceiptRevoked);
    assert.deepEqual(revocation?.data, {
      receiptId: sast.receiptId,
      unit: UNIT,
      action: 'sast',
      reason: 'scanner was misconfigured',
      revokedBy: 'alice',
    });
    // The receipt stays in the log and in the status, marked revoked.
    const status = await service.getUnitStatus(UNIT);
    const view = status.receipts.find((r) => r.receiptId === sast.receiptId);
    assert.equal(view?.revoked?.reason, 'scanner was misconfigured');
    assert.equal(view?.counted, false);
    await rejectsWith(
      service.revokeReceipt(sast.receiptId, 'again'),
      'DOMAIN_RECEIPT_ALREADY_REVOKED',
    );
    await rejectsWith(
      service.revokeReceipt('01ARZ3NDEKTSV4RRFFQ69G5FAV', 'x'),
      'DOMAIN_RECEIPT_NOT_FOUND',
    );
    await rejectsWith(service.revokeReceipt('nope', 'x'), 'DOMAIN_RECEIPT_NOT_FOUND');
  });

  it("finds any receipt's unit by key, whichever receipt it is", async () => {
    const paged = createDomainService({ eventStore: store });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await paged.recordReceipt(receipt(`a${i}`, true))).receiptId);
    const result = await paged.revokeReceipt(ids[4] as string, 'last one');
    assert.equal(result.unit, UNIT);
  });

  it('versions gates and stages, disables them, and lists them', async () => {
    const v1 = await service.defineGate('quality', { requiredActions: ['build'] });
    const same = await service.defineGate('quality', { requiredActions: ['build'] });
    const v2 = await service.defineGate('quality', {
      requiredActions: ['build', 'unit-test'],
      name: 'Quality',
    });
    assert.deepEqual([v1.view.version, same.changed, v2.view.version], [1, false, 2]);
    await service.defineGate('ext', {
      requiredActions: ['destructive-test'],
      external: true,
      owner: 'qa-team',
    });
    const disabled = await service.disableGate('ext', 'team disbanded');
    assert.deepEqual(
      [disabled.changed, disabled.view.enabled, disabled.view.disabledReason],
      [true, false, 'team disbanded'],
    );
    assert.deepEqual(
      (await service.listGates()).map((g) => [g.gateId, g.version, g.enabled]),
      [
        ['ext', 1, false],
        ['quality', 2, true],
      ],
    );
    assert.deepEqual(await service.getGate('quality'), {
      gateId: 'quality',
      version: 2,
      enabled: true,
      requiredActions: ['build', 'unit-test'],
      name: 'Quality',
      external: false,
    });
    await service.defineStage('qa', { gates: ['quality'] });
    await service.defineStage('release', { gates: ['quality', 'ext'], prerequisites: ['qa'] });
    await rejectsWith(
      service.defineStage('qa', { gates: ['quality'], prerequisites: ['release'] }),
      'DOMAIN_STAGE_CYCLE',
    );
    await rejectsWith(service.defineStage('x', { gates: ['ghost'] }), 'DOMAIN_UNKNOWN_GATE');
    await rejectsWith(
      service.defineStage('x', { gates: ['quality'], prerequisites: ['ghost'] }),
      'DOMAIN_UNKNOWN_STAGE',
    );
    await service.disableStage('qa');
    assert.deepEqual(
      (await service.listStages()).map((s) => [s.stageId, s.enabled, s.prerequisites]),
      [
        ['qa', false, []],
        ['release', true, ['qa']],
      ],
    );
    await rejectsWith(service.getStage('nope'), 'DOMAIN_STAGE_NOT_FOUND');
    await rejectsWith(service.disableGate('nope'), 'DOMAIN_GATE_NOT_FOUND');
    assert.deepEqual(await streamTypes('gate-quality'), [
      EventTypes.GateDefined,
      EventTypes.GateDefined,
    ]);
  });

  it('definition changes apply from then on; evaluateUnit records the change of verdict', async () => {
    await defineReleasePipeline();
    await service.recordReceipt(receipt('build', true));
    await service.recordReceipt(receipt('unit-test', true));
    await service.recordReceipt(receipt('sast', true));
    await service.defineGate('security', { requiredActions: ['sast', 'sca'] });
    const before = await service.getUnitStatus(UNIT);
    const security = before.gates.find((g) => g.gateId === 'security');
    assert.equal(security?.recorded?.verdict, 'passed');
    assert.equal(security?.current?.verdict, 'pending');
    assert.equal(security?.upToDate, false);
    const typesBefore = await streamTypes(STREAM);

    const evaluated = await service.evaluateUnit(UNIT);
    assert.deepEqual(
      evaluated.verdicts.map((v) => [v.type, v.gateVersion ?? v.stageVersion]),
      [
        [EventTypes.GateReopened, 2],
        [EventTypes.StageReopened, 1],
      ],
    );
    assert.deepEqual(await streamTypes(STREAM), [
      ...typesBefore,
      EventTypes.GateReopened,
      EventTypes.StageReopened,
    ]);
    assert.ok(evaluated.status.gates.every((g) => g.upToDate));
    // Evaluating again changes nothing.
    assert.deepEqual((await service.evaluateUnit(UNIT)).verdicts, []);
    await rejectsWith(service.evaluateUnit('ghost/1/1/x/rpm'), 'DOMAIN_UNIT_NOT_FOUND');
    await rejectsWith(service.getUnitStatus('ghost/1/1/x/rpm'), 'DOMAIN_UNIT_NOT_FOUND');
  });

  it('unit status lists receipts, counted ones, and recorded verdicts', async () => {
    await defineReleasePipeline();
    const a = await service.recordReceipt(receipt('build', false));
    const b = await service.recordReceipt(receipt('build', true));
    const status = await service.getUnitStatus(UNIT);
    assert.deepEqual(
      status.receipts.map((r) => [r.receiptId, r.counted]),
      [
        [a.receiptId, false],
        [b.receiptId, true],
      ],
    );
    const quality = status.gates.find((g) => g.gateId === 'quality');
    assert.deepEqual(quality?.recorded, {
      verdict: 'pending',
      gateVersion: 1,
      receiptIds: [b.receiptId],
    });
    assert.deepEqual(quality?.current?.missingActions, ['unit-test']);
    assert.deepEqual(status.stages, [
      {
        stageId: 'release',
        enabled: true,
        recorded: null,
        current: { passed: false, stageVersion: 1, receiptIds: [b.receiptId] },
        upToDate: true,
      },
    ]);
  });

  it('concurrent receipts for one unit all land, each decided on the latest state', async () => {
    await service.defineGate('all', {
      requiredActions: ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'],
    });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => service.recordReceipt(receipt(`a${i}`, true))),
    );
    const events = (await store.readStream(STREAM)).events;
    assert.equal(events.filter((e) => e.type === EventTypes.ReceiptRecorded).length, 8);
    // Exactly one GatePassed, decided by whichever receipt came last.
    assert.equal(events.filter((e) => e.type === EventTypes.GatePassed).length, 1);
    assert.equal(results.flatMap((r) => r.verdicts).length, 1);
  });
});

describe('handleCommand', () => {
  it('retries on a revision conflict by reloading and deciding again', async () => {
    const fold = {
      evolve: (n: number) => n + 1,
      initialState: () => 0,
      fromRecorded: (e: { type: string; data: unknown }) => ({ type: e.type, data: e.data }),
    };
    let calls = 0;
    const result = await handleCommand(store, 'counter-1', fold, async (count) => {
      calls++;
      // A competing writer appends between our read and our append, once.
      if (calls === 1) await store.append('counter-1', [{ type: 'Tick', data: {} }]);
      return [{ type: 'Tick', data: { seen: count } }];
    });
    assert.equal(result.attempts, 2);
    assert.deepEqual(
      (await store.readStream('counter-1')).events.map((e) => e.data),
      [{}, { seen: 1 }],
    );
  });

  it('gives up after maxAttempts with the conflict', async () => {
    const fold = { evolve: (n: number) => n, initialState: () => 0, fromRecorded: () => undefined };
    await rejectsWith(
      handleCommand(
        store,
        'counter-2',
        fold,
        async () => {
          await store.append('counter-2', [{ type: 'Tick', data: {} }]);
          return [{ type: 'Tick', data: {} }];
        },
        { maxAttempts: 3 },
      ),
      'STORE_REVISION_CONFLICT',
    );
    assert.equal((await store.readStream('counter-2')).events.length, 3);
  });
});
