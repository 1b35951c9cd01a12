// The unit state's counted-receipt index gives the same verdicts as evaluating every
// receipt of the unit (evaluation.ts's reference definition), for any sequence of
// recordings and revocations; and a long stream folds in linear time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UNIT, definitionsOf, receipt } from '../../test/support/domainFixtures.js';
import { evaluateUnit, type EvaluatedReceipt } from './evaluation.js';
import type { UnitEvent } from './events.js';
import { decideUnit, evaluateUnitState, evolveUnit, initialUnitState } from './unit.js';

const defs = definitionsOf(
  { gate: 'quality', define: { requiredActions: ['build', 'unit-test'] } },
  { gate: 'security', define: { requiredActions: ['sast'] } },
  { stage: 'release', define: { gates: ['quality', 'security'] } },
);
const ACTIONS = ['build', 'unit-test', 'sast', 'sca'] as const;

/** A ULID-shaped receipt id for step `i`. */
const idOf = (i: number): string => `01J${String(i).padStart(23, '0')}`;

type Step = { kind: 'record'; action: number; pass: boolean } | { kind: 'revoke'; target: number };

const steps = fc.array(
  fc.oneof(
    fc.record({
      kind: fc.constant('record' as const),
      action: fc.integer({ min: 0, max: ACTIONS.length - 1 }),
      pass: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('revoke' as const), target: fc.nat({ max: 40 }) }),
  ),
  { maxLength: 40 },
);

describe('unit fold', () => {
  it('evaluates as the reference evaluation over every receipt in log order', () => {
    fc.assert(
      fc.property(steps, (plan: Step[]) => {
        let state = initialUnitState();
        const log: EvaluatedReceipt[] = [];
        plan.forEach((step, i) => {
          let events: UnitEvent[];
          if (step.kind === 'record') {
            const action = ACTIONS[step.action] ?? 'build';
            events = decideUnit(
              {
                type: 'RecordReceipt',
                receiptId: idOf(i),
                receipt: receipt(action, step.pass),
                definitions: defs,
              },
              state,
            );
            log.push({ receiptId: idOf(i), action, multipass: step.pass, revoked: false });
          } else {
            const target = log[step.target % Math.max(log.length, 1)];
            if (target === undefined || target.revoked) return;
            events = decideUnit(
              {
                type: 'RevokeReceipt',
                receiptId: target.receiptId,
                reason: 'x',
                definitions: defs,
              },
              state,
            );
            target.revoked = true;
          }
          state = events.reduce(evolveUnit, state);
          assert.deepEqual(evaluateUnitState(state, defs), evaluateUnit(log, defs));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('indexes the receipts of each action while folding a long stream', () => {
    const events: UnitEvent[] = [];
    for (let i = 0; i < 20_000; i++)
      events.push({
        type: 'ReceiptRecorded.v1',
        data: {
          receiptId: idOf(i),
          unit: UNIT,
          action: ACTIONS[i % 4] ?? 'build',
          multipass: true,
        },
      });
    const state = events.reduce(evolveUnit, initialUnitState());
    assert.equal(state.receipts.size, 20_000);
    assert.equal(state.receiptsByAction.get('sast')?.size, 5_000);
  });
});
