// The unit decider: RevokeReceipt and Evaluate, the commands that change verdicts
// after the receipts were recorded (a revocation, new definitions).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UNIT, definitionsOf, receipt } from '../../test/support/domainFixtures.js';
import {
  ID,
  defs,
  given,
  history,
  record,
  revoke,
  typesOf,
} from '../../test/support/unitCommands.js';
import { EventTypes, type GateVerdictData, type StageVerdictData } from './events.js';
import type { UnitCommand } from './unit.js';

describe('RevokeReceipt', () => {
  it('records the revocation with its reason; the receipt stays in the log', () => {
    const past = history([record(ID.a, receipt('lint', true))]);
    given(past)
      .when({ ...revoke(ID.a, 'wrong commit'), revokedBy: 'alice' } as UnitCommand)
      .then({
        type: EventTypes.ReceiptRevoked,
        data: {
          receiptId: ID.a,
          unit: UNIT,
          action: 'lint',
          reason: 'wrong commit',
          revokedBy: 'alice',
        },
      });
  });

  it('revoking the only receipt of a passed gate sends it back to pending (GateReopened) and reopens the stage', () => {
    const past = history([
      record(ID.a, receipt('build', true)),
      record(ID.b, receipt('unit-test', true)),
      record(ID.c, receipt('sast', true)),
    ]);
    given(past)
      .when(revoke(ID.c, 'scanner misconfigured'))
      .thenEvents((events) => {
        assert.deepEqual(typesOf(events), [
          EventTypes.ReceiptRevoked,
          EventTypes.GateReopened,
          EventTypes.StageReopened,
        ]);
        const gate = events[1]?.data as GateVerdictData;
        assert.deepEqual(
          [gate.gateId, gate.verdict, gate.previousVerdict],
          ['security', 'pending', 'passed'],
        );
        assert.deepEqual(gate.missingActions, ['sast']);
        assert.deepEqual(gate.trigger, { kind: 'receipt-revoked', receiptId: ID.c });
        assert.deepEqual((events[2]?.data as StageVerdictData).receiptIds, [ID.a, ID.b]);
      });
  });

  it('revoking a superseding failure lets the earlier passing receipt count again', () => {
    const past = history([
      record(ID.a, receipt('sast', true)),
      record(ID.b, receipt('sast', false)),
    ]);
    given(past)
      .when(revoke(ID.b, 'flaky'))
      .thenEvents((events) => {
        assert.deepEqual(typesOf(events), [EventTypes.ReceiptRevoked, EventTypes.GatePassed]);
        assert.deepEqual((events[1]?.data as GateVerdictData).receiptIds, [ID.a]);
      });
  });

  it('revoking an unknown receipt is DOMAIN_RECEIPT_NOT_FOUND; twice is DOMAIN_RECEIPT_ALREADY_REVOKED', () => {
    given([]).when(revoke(ID.a, 'x')).thenThrows('DOMAIN_RECEIPT_NOT_FOUND');
    given(history([record(ID.a, receipt('sast', true))]))
      .when(revoke(ID.b, 'x'))
      .thenThrows('DOMAIN_RECEIPT_NOT_FOUND');
    given(history([record(ID.a, receipt('sast', true)), revoke(ID.a, 'once')]))
      .when(revoke(ID.a, 'twice'))
      .thenThrows('DOMAIN_RECEIPT_ALREADY_REVOKED');
  });

  it('requires a reason', () => {
    const past = history([record(ID.a, receipt('sast', true))]);
    given(past).when(revoke(ID.a, '')).thenThrows('DOMAIN_INVALID_COMMAND');
    given(past).when(revoke(ID.a, '   ')).thenThrows('DOMAIN_INVALID_COMMAND');
  });
});

describe('Evaluate', () => {
  it('definition changes apply only when evaluated: a new required action reopens, recorded with the new version', () => {
    const past = history([
      record(ID.a, receipt('build', true)),
      record(ID.b, receipt('unit-test', true)),
      record(ID.c, receipt('sast', true)),
    ]);
    const v2 = definitionsOf(
      { gate: 'quality', define: { requiredActions: ['build', 'unit-test'] } },
      { gate: 'security', define: { requiredActions: ['sast'] } },
      { gate: 'security', define: { requiredActions: ['sast', 'sca'] } },
      { stage: 'release', define: { gates: ['quality', 'security'] } },
    );
    given(past)
      .when({ type: 'Evaluate', definitions: v2 })
      .thenEvents((events) => {
        assert.deepEqual(typesOf(events), [EventTypes.GateReopened, EventTypes.StageReopened]);
        const gate = events[0]?.data as GateVerdictData;
        assert.equal(gate.gateVersion, 2);
        assert.deepEqual(gate.missingActions, ['sca']);
        assert.deepEqual(gate.trigger, { kind: 'evaluation' });
        assert.deepEqual((events[1]?.data as StageVerdictData).gates, [
          { gateId: 'quality', gateVersion: 1, verdict: 'passed' },
          { gateId: 'security', gateVersion: 2, verdict: 'pending' },
        ]);
      });
  });

  it('decides nothing when no verdict changes', () => {
    given(history([record(ID.a, receipt('sast', true))]))
      .when({ type: 'Evaluate', definitions: defs })
      .thenNothingHappened();
  });

  it('records verdicts for a gate defined after the receipts arrived', () => {
    const past = history([record(ID.a, receipt('sign', true), definitionsOf())]);
    assert.deepEqual(typesOf(past), [EventTypes.ReceiptRecorded]);
    given(past)
      .when({
        type: 'Evaluate',
        definitions: definitionsOf({ gate: 'signed', define: { requiredActions: ['sign'] } }),
      })
      .thenEvents((events) => assert.deepEqual(typesOf(events), [EventTypes.GatePassed]));
  });

  it('an empty unit is DOMAIN_UNIT_NOT_FOUND', () => {
    given([]).when({ type: 'Evaluate', definitions: defs }).thenThrows('DOMAIN_UNIT_NOT_FOUND');
  });
});
