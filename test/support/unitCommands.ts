// Given/when/then for the unit decider's tests (src/domain/unit*.unit.test.ts):
// the specification helper, receipt ids, gate and stage definitions, the unit's
// commands, and the log a sequence of commands leaves behind.
import { deciderSpecification } from './decider.js';
import { definitionsOf } from './domainFixtures.js';
import type { Definitions } from '../../src/domain/definitions.js';
import { EventTypes, type UnitEvent } from '../../src/domain/events.js';
import type { ReceiptInput } from '../../src/domain/receiptInput.js';
import { unitDecider, type UnitCommand, type UnitState } from '../../src/domain/unit.js';

export const given = deciderSpecification<UnitCommand, UnitEvent, UnitState>(unitDecider);

export const ID = {
  a: '01J00000000000000000000001',
  b: '01J00000000000000000000002',
  c: '01J00000000000000000000003',
  d: '01J00000000000000000000004',
} as const;

export const defs = definitionsOf(
  { gate: 'quality', define: { requiredActions: ['build', 'unit-test'] } },
  { gate: 'security', define: { requiredActions: ['sast'] } },
  { stage: 'release', define: { gates: ['quality', 'security'] } },
);

export const record = (
  receiptId: string,
  input: ReceiptInput,
  definitions: Definitions = defs,
): UnitCommand => ({
  type: 'RecordReceipt',
  receiptId,
  receipt: input,
  definitions,
});
export const revoke = (
  receiptId: string,
  reason: string,
  definitions: Definitions = defs,
): UnitCommand => ({
  type: 'RevokeReceipt',
  receiptId,
  reason,
  definitions,
});
export const recorded = (receiptId: string, input: ReceiptInput): UnitEvent => ({
  type: EventTypes.ReceiptRecorded,
  data: { receiptId, ...input },
});

/** The past events a decider produced for a sequence of commands (the log so far). */
export function history(commands: UnitCommand[]): UnitEvent[] {
  const events: UnitEvent[] = [];
  let state = unitDecider.initialState();
  for (const command of commands) {
    const decided = unitDecider.decide(command, state);
    events.push(...decided);
    state = decided.reduce(unitDecider.evolve, state);
  }
  return events;
}

export const typesOf = (events: UnitEvent[]): string[] => events.map((e) => e.type);
