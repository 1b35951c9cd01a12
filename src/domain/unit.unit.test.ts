// The unit decider: RecordReceipt. RevokeReceipt and Evaluate, the commands that
// change verdicts after the receipts, are in unitRevokeEvaluate.unit.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UNIT, definitionsOf, receipt } from '../../test/support/domainFixtures.js';
import { ID, given, history, record, recorded, typesOf } from '../../test/support/unitCommands.js';
import { EventTypes, type GateVerdictData, type StageVerdictData } from './events.js';
import type { ReceiptInput } from './receiptInput.js';

describe('RecordReceipt', () => {
  it('records the receipt with every field, and no verdict change while gates stay pending', () => {
    const input: ReceiptInput = {
      unit: UNIT,
      action: 'build',
      multipass: true,
      results: { warnings: 2 },
      custom: { compiler: 'gcc' },
      artifacts: [
        {
          name: 'openssl.rpm',
          uri: 'https://repo/openssl.rpm',
          digest: { sha256: 'a'.repeat(64) },
        },
      ],
      evidence: [
        { uri: 'https://ci/logs/1', digest: { sha256: 'b'.repeat(64) }, mediaType: 'text/plain' },
      ],
      producer: 'jenkins',
      correlationId: 'corr-1',
      startedAt: '2024-05-01T10:00:00Z',
      finishedAt: '2024-05-01T10:05:00Z',
      origin: {
        source: '/ci/jenkins',
        id: 'ev-1',
        type: 'dev.provenant.receipt.v1',
        time: '2024-05-01T10:05:01Z',
      },
    };
    given([]).when(record(ID.a, input)).then(recorded(ID.a, input));
  });

  it('decides the receipt AND the gate verdict change it causes, naming versions and receipt ids', () => {
    given(history([record(ID.a, receipt('build', true))]))
      .when(record(ID.b, receipt('unit-test', true)))
      .then([
        recorded(ID.b, receipt('unit-test', true)),
        {
          type: EventTypes.GatePassed,
          data: {
            unit: UNIT,
            gateId: 'quality',
            gateVersion: 1,
            verdict: 'passed',
            previousVerdict: 'pending',
            counted: [
              { action: 'build', receiptId: ID.a, multipass: true },
              { action: 'unit-test', receiptId: ID.b, multipass: true },
            ],
            receiptIds: [ID.a, ID.b],
            missingActions: [],
            trigger: { kind: 'receipt-recorded', receiptId: ID.b },
          },
        },
      ]);
  });

  it('a failing receipt decides GateFailed', () => {
    given([])
      .when(record(ID.a, receipt('sast', false)))
      .thenEvents((events) => {
        assert.deepEqual(typesOf(events), [EventTypes.ReceiptRecorded, EventTypes.GateFailed]);
        const data = events[1]?.data as GateVerdictData;
        assert.equal(data.gateId, 'security');
        assert.equal(data.previousVerdict, 'pending');
        assert.deepEqual(data.receiptIds, [ID.a]);
      });
  });

  it('emits a verdict only when it changes: a second passing receipt adds nothing', () => {
    given(history([record(ID.a, receipt('sast', true))]))
      .when(record(ID.b, receipt('sast', true)))
      .then(recorded(ID.b, receipt('sast', true)));
  });

  it('the last gate passing cascades into StagePassed in the same decision', () => {
    given(history([record(ID.a, receipt('build', true)), record(ID.b, receipt('unit-test', true))]))
      .when(record(ID.c, receipt('sast', true)))
      .thenEvents((events) => {
        assert.deepEqual(typesOf(events), [
          EventTypes.ReceiptRecorded,
          EventTypes.GatePassed,
          EventTypes.StagePassed,
        ]);
        assert.deepEqual(events[2]?.data, {
          unit: UNIT,
          stageId: 'release',
          stageVersion: 1,
          passed: true,
          gates: [
            { gateId: 'quality', gateVersion: 1, verdict: 'passed' },
            { gateId: 'security', gateVersion: 1, verdict: 'passed' },
          ],
          prerequisites: [],
          receiptIds: [ID.a, ID.b, ID.c],
          trigger: { kind: 'receipt-recorded', receiptId: ID.c },
        } satisfies StageVerdictData);
      });
  });

  it('a superseding failing receipt fails the gate and reopens the stage', () => {
    const past = history([
      record(ID.a, receipt('build', true)),
      record(ID.b, receipt('unit-test', true)),
      record(ID.c, receipt('sast', true)),
    ]);
    given(past)
      .when(record(ID.d, receipt('build', false)))
      .thenEvents((events) => {
        assert.deepEqual(typesOf(events), [
          EventTypes.ReceiptRecorded,
          EventTypes.GateFailed,
          EventTypes.StageReopened,
        ]);
        const gate = events[1]?.data as GateVerdictData;
        assert.equal(gate.previousVerdict, 'passed');
        assert.deepEqual(gate.receiptIds, [ID.d, ID.b]);
        const stage = events[2]?.data as StageVerdictData;
        assert.equal(stage.passed, false);
        assert.deepEqual(
          stage.gates.map((g) => g.verdict),
          ['failed', 'passed'],
        );
      });
  });

  it('a superseding passing receipt turns a failed gate into passed', () => {
    given(history([record(ID.a, receipt('sast', false))]))
      .when(record(ID.b, receipt('sast', true)))
      .thenEvents((events) => {
        assert.deepEqual(typesOf(events), [EventTypes.ReceiptRecorded, EventTypes.GatePassed]);
        assert.equal((events[1]?.data as GateVerdictData).previousVerdict, 'failed');
      });
  });

  it('disabled gates do not count: no verdict for them, and the stage passes without them', () => {
    const d = definitionsOf(
      { gate: 'quality', define: { requiredActions: ['build'] } },
      { gate: 'security', define: { requiredActions: ['sast'] } },
      { stage: 'release', define: { gates: ['quality', 'security'] } },
      { gate: 'security', disable: true },
    );
    given([])
      .when(record(ID.a, receipt('sast', false), d))
      .then(recorded(ID.a, receipt('sast', false)));
    given([])
      .when(record(ID.a, receipt('build', true), d))
      .thenEvents((events) =>
        assert.deepEqual(typesOf(events), [
          EventTypes.ReceiptRecorded,
          EventTypes.GatePassed,
          EventTypes.StagePassed,
        ]),
      );
  });

  it('a stage waits for its prerequisite stage', () => {
    const d = definitionsOf(
      { gate: 'quality', define: { requiredActions: ['build'] } },
      { gate: 'security', define: { requiredActions: ['sast'] } },
      { stage: 'qa', define: { gates: ['security'] } },
      { stage: 'release', define: { gates: ['quality'], prerequisites: ['qa'] } },
    );
    const past = history([record(ID.a, receipt('build', true), d)]);
    assert.deepEqual(typesOf(past), [EventTypes.ReceiptRecorded, EventTypes.GatePassed]);
    given(past)
      .when(record(ID.b, receipt('sast', true), d))
      .thenEvents((events) => {
        assert.deepEqual(typesOf(events), [
          EventTypes.ReceiptRecorded,
          EventTypes.GatePassed,
          EventTypes.StagePassed,
          EventTypes.StagePassed,
        ]);
        assert.deepEqual(
          events.slice(2).map((e) => (e.data as StageVerdictData).stageId),
          ['qa', 'release'],
        );
        assert.deepEqual((events[3]?.data as StageVerdictData).prerequisites, [
          { stageId: 'qa', stageVersion: 1, passed: true },
        ]);
      });
  });

  it('rejects a custom section that violates the schema of a gate requiring the action, with ajv errors', () => {
    const d = definitionsOf({
      gate: 'coverage',
      define: {
        requiredActions: ['unit-test'],
        customSchema: {
          type: 'object',
          properties: { coverage: { type: 'number', minimum: 80 } },
          required: ['coverage'],
        },
      },
    });
    given([])
      .when(record(ID.a, receipt('unit-test', true, { custom: { coverage: 42 } }), d))
      .thenThrows('DOMAIN_CUSTOM_SCHEMA_VIOLATION', (e) => {
        const violations = e.details?.violations as {
          gateId: string;
          gateVersion: number;
          errors: { instancePath: string; keyword: string }[];
        }[];
        assert.equal(violations[0]?.gateId, 'coverage');
        assert.equal(violations[0]?.gateVersion, 1);
        assert.deepEqual(
          violations[0]?.errors.map((x) => [x.instancePath, x.keyword]),
          [['/coverage', 'minimum']],
        );
      });
    given([])
      .when(record(ID.a, receipt('unit-test', true), d))
      .thenThrows('DOMAIN_CUSTOM_SCHEMA_VIOLATION', (e) =>
        assert.match(e.message, /required property 'coverage'/),
      );
    given([])
      .when(record(ID.a, receipt('unit-test', true, { custom: { coverage: 91 } }), d))
      .thenEvents((events) => assert.equal(events[1]?.type, EventTypes.GatePassed));
    // Other actions and disabled gates are not checked against the schema.
    given([])
      .when(record(ID.a, receipt('build', true, { custom: { coverage: 'n/a' } }), d))
      .thenEvents((events) => assert.equal(events.length, 1));
    const disabled = definitionsOf(
      {
        gate: 'coverage',
        define: {
          requiredActions: ['unit-test'],
          customSchema: {
            type: 'object',
            properties: { coverage: { type: 'number' } },
            required: ['coverage'],
          },
        },
      },
      { gate: 'coverage', disable: true },
    );
    given([])
      .when(record(ID.a, receipt('unit-test', true), disabled))
      .then(recorded(ID.a, receipt('unit-test', true)));
  });

  it('rejects a malformed unit key and malformed receipts', () => {
    given([])
      .when(record(ID.a, { ...receipt('build', true), unit: 'openssl/3.2.1' }))
      .thenThrows('DOMAIN_INVALID_UNIT_KEY');
    given([])
      .when(record(ID.a, { ...receipt('build', true), action: '' }))
      .thenThrows('DOMAIN_INVALID_RECEIPT');
    given([])
      .when(record(ID.a, { ...receipt('build', true), multipass: 'yes' as never }))
      .thenThrows('DOMAIN_INVALID_RECEIPT');
    given([])
      .when(record('not-an-id', receipt('build', true)))
      .thenThrows('DOMAIN_INVALID_RECEIPT');
    given([])
      .when(record(ID.a, receipt('build', true, { evidence: [{ uri: 'x', digest: {} }] })))
      .thenThrows('DOMAIN_INVALID_RECEIPT');
    given([])
      .when(record(ID.a, receipt('build', true, { custom: [] as never })))
      .thenThrows('DOMAIN_INVALID_RECEIPT');
  });

  it('a redelivery of the same receipt id decides nothing; different content under that id is a conflict', () => {
    const past = history([record(ID.a, receipt('sast', true))]);
    given(past)
      .when(record(ID.a, receipt('sast', true)))
      .thenNothingHappened();
    given(past)
      .when(record(ID.a, receipt('sast', false)))
      .thenThrows('DOMAIN_RECEIPT_CONFLICT');
  });

  it('refuses a receipt for another unit in this unit stream', () => {
    given(history([record(ID.a, receipt('sast', true))]))
      .when(record(ID.b, { ...receipt('sast', true), unit: 'other/1/1/x/rpm' }))
      .thenThrows('DOMAIN_INVALID_COMMAND');
  });
});
