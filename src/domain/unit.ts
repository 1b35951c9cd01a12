// The unit stream (`unit-<key>`, DESIGN.md §1–2): receipts, revocations, and the
// verdicts they cause. Recording or revoking a receipt decides the receipt event
// AND every resulting verdict change (GatePassed / GateFailed / GateReopened /
// StagePassed / StageReopened), so that the handler appends them atomically.
// Verdict events are emitted only when a verdict changes for the unit; each names
// the definition versions and receipt ids it was computed from.
import { canonicalize } from '../encoding/canonicalJson.js';
import { ProvenantError } from '../errors.js';
import type { Definitions } from './definitions.js';
import { List, Map as ImmutableMap } from 'immutable';
import {
  evaluateCounted,
  type CountedLookup,
  type EvaluatedReceipt,
  type UnitEvaluation,
} from './evaluation.js';
import {
  EventTypes,
  gateVerdictEventType,
  type GateVerdictData,
  type ReceiptRecordedData,
  type ReceiptRevokedData,
  type StageVerdictData,
  type UnitEvent,
  type VerdictEvent,
  type VerdictTrigger,
} from './events.js';
import type { ReceiptInput } from './receiptInput.js';
import { checkCustomSection, receiptData } from './receiptData.js';
import { MAX_NAME_LENGTH, MAX_TEXT_LENGTH, optionalText, requiredText } from './validate.js';

/** Record one action's outcome for one unit. `receiptId` is chosen outside (see application). */
export interface RecordReceipt {
  type: 'RecordReceipt';
  receiptId: string;
  receipt: ReceiptInput;
  definitions: Definitions;
}

/** Revoke a receipt, with a reason; the receipt stays in the log. */
export interface RevokeReceipt {
  type: 'RevokeReceipt';
  receiptId: string;
  reason: string;
  revokedBy?: string;
  definitions: Definitions;
}

/** Re-evaluate the unit under the current definitions and record any change of verdict. */
export interface EvaluateUnit {
  type: 'Evaluate';
  definitions: Definitions;
}

export type UnitCommand = RecordReceipt | RevokeReceipt | EvaluateUnit;

/** A receipt as the unit state keeps it. */
export interface UnitReceipt {
  data: ReceiptRecordedData;
  revoked?: { reason: string; revokedBy?: string };
}

/**
 * A unit folded from its stream. The receipt collections are persistent maps
 * (`immutable`): evolving a state shares them with the next one instead of
 * copying, so folding a stream costs O(events) and the decider stays pure.
 */
export interface UnitState {
  /** Canonical unit key, once the stream has an event. */
  unit: string | undefined;
  /** Receipts by id. */
  receipts: ImmutableMap<string, UnitReceipt>;
  /** Each action's receipt ids in log order: the latest non-revoked one counts. */
  receiptsByAction: ImmutableMap<string, List<string>>;
  /** The last recorded verdict of each gate for this unit. */
  gateVerdicts: ReadonlyMap<string, GateVerdictData>;
  /** The last recorded verdict of each stage for this unit. */
  stageVerdicts: ReadonlyMap<string, StageVerdictData>;
}

export const initialUnitState = (): UnitState => ({
  unit: undefined,
  receipts: ImmutableMap(),
  receiptsByAction: ImmutableMap(),
  gateVerdicts: new Map(),
  stageVerdicts: new Map(),
});

export function evolveUnit(state: UnitState, event: UnitEvent): UnitState {
  switch (event.type) {
    case EventTypes.ReceiptRecorded: {
      const { receiptId, action, unit } = event.data;
      if (state.receipts.has(receiptId)) return state;
      return {
        ...state,
        unit,
        receipts: state.receipts.set(receiptId, { data: event.data }),
        receiptsByAction: state.receiptsByAction.update(action, List<string>(), (ids) =>
          ids.push(receiptId),
        ),
      };
    }
    case EventTypes.ReceiptRevoked: {
      const existing = state.receipts.get(event.data.receiptId);
      if (existing === undefined) return state;
      const revoked: UnitReceipt['revoked'] = { reason: event.data.reason };
      if (event.data.revokedBy !== undefined) revoked.revokedBy = event.data.revokedBy;
      return {
        ...state,
        receipts: state.receipts.set(event.data.receiptId, { ...existing, revoked }),
      };
    }
    case EventTypes.GatePassed:
    case EventTypes.GateFailed:
    case EventTypes.GateReopened: {
      const gateVerdicts = new Map(state.gateVerdicts);
      gateVerdicts.set(event.data.gateId, event.data);
      return { ...state, unit: event.data.unit, gateVerdicts };
    }
    case EventTypes.StagePassed:
    case EventTypes.StageReopened: {
      const stageVerdicts = new Map(state.stageVerdicts);
      stageVerdicts.set(event.data.stageId, event.data);
      return { ...state, unit: event.data.unit, stageVerdicts };
    }
  }
}

const asEvaluated = ({ data, revoked }: UnitReceipt): EvaluatedReceipt => ({
  receiptId: data.receiptId,
  action: data.action,
  multipass: data.multipass,
  revoked: revoked !== undefined,
});

/** The receipts of a unit state as evaluation takes them (in no particular order). */
export const evaluatedReceipts = (
  receipts: ImmutableMap<string, UnitReceipt>,
): EvaluatedReceipt[] => [...receipts.values()].map(asEvaluated);

/**
 * The counted receipt of each action of `state`, as if `change` (a receipt about
 * to be recorded, or one about to be revoked) were already in it. Walks back from
 * each action's latest receipt, so it usually reads one receipt per action.
 */
export function countedIn(state: UnitState, change?: UnitReceipt): CountedLookup {
  return {
    get(action) {
      if (change !== undefined && change.data.action === action) {
        const isNew = !state.receipts.has(change.data.receiptId);
        if (isNew && change.revoked === undefined) return asEvaluated(change);
      }
      const ids = state.receiptsByAction.get(action);
      if (ids === undefined) return undefined;
      for (let i = ids.size - 1; i >= 0; i--) {
        const id = ids.get(i);
        const receipt =
          change !== undefined && id === change.data.receiptId
            ? change
            : id === undefined
              ? undefined
              : state.receipts.get(id);
        if (receipt !== undefined && receipt.revoked === undefined) return asEvaluated(receipt);
      }
      return undefined;
    },
  };
}

/**
 * The verdict events that take the unit from its recorded verdicts to `evaluation`:
 * gates first (by id), then stages (by id). Nothing for a verdict that did not change.
 */
export function verdictChanges(
  state: UnitState,
  unit: string,
  evaluation: UnitEvaluation,
  trigger: VerdictTrigger,
): VerdictEvent[] {
  const events: VerdictEvent[] = [];
  for (const gate of evaluation.gates.values()) {
    const previousVerdict = state.gateVerdicts.get(gate.gateId)?.verdict ?? 'pending';
    if (previousVerdict === gate.verdict) continue;
    const data: GateVerdictData = {
      unit,
      gateId: gate.gateId,
      gateVersion: gate.gateVersion,
      verdict: gate.verdict,
      previousVerdict,
      counted: gate.counted,
      receiptIds: gate.receiptIds,
      missingActions: gate.missingActions,
      trigger,
    };
    events.push({ type: gateVerdictEventType(gate.verdict), data });
  }
  for (const stage of evaluation.stages.values()) {
    const previouslyPassed = state.stageVerdicts.get(stage.stageId)?.passed ?? false;
    if (previouslyPassed === stage.passed) continue;
    const data: StageVerdictData = {
      unit,
      stageId: stage.stageId,
      stageVersion: stage.stageVersion,
      passed: stage.passed,
      gates: stage.gates,
      prerequisites: stage.prerequisites,
      receiptIds: stage.receiptIds,
      trigger,
    };
    events.push(
      stage.passed
        ? { type: EventTypes.StagePassed, data }
        : { type: EventTypes.StageReopened, data },
    );
  }
  return events;
}

const sameReceipt = (a: ReceiptRecordedData, b: ReceiptRecordedData): boolean =>
  canonicalize(a) === canonicalize(b);

function assertSameUnit(state: UnitState, unit: string): void {
  if (state.unit !== undefined && state.unit !== unit)
    throw new ProvenantError(
      'DOMAIN_INVALID_COMMAND',
      `Receipt for unit '${unit}' decided against the stream of unit '${state.unit}'`,
    );
}

/**
 * Decides a unit command:
 * - `RecordReceipt`: the receipt event plus verdict changes. A receipt id already
 *   recorded with identical content decides nothing (a redelivery); with different
 *   content it is `DOMAIN_RECEIPT_CONFLICT`. A custom section that violates the
 *   schema of an enabled gate requiring the action is `DOMAIN_CUSTOM_SCHEMA_VIOLATION`.
 * - `RevokeReceipt`: requires a reason; unknown receipt `DOMAIN_RECEIPT_NOT_FOUND`,
 *   revoked twice `DOMAIN_RECEIPT_ALREADY_REVOKED`.
 * - `Evaluate`: only verdict changes under the given definitions; an empty unit is
 *   `DOMAIN_UNIT_NOT_FOUND`.
 */
export function decideUnit(command: UnitCommand, state: UnitState): UnitEvent[] {
  switch (command.type) {
    case 'RecordReceipt': {
      const data = receiptData(command.receiptId, command.receipt);
      assertSameUnit(state, data.unit);
      const existing = state.receipts.get(data.receiptId);
      if (existing !== undefined) {
        if (sameReceipt(existing.data, data)) return [];
        throw new ProvenantError(
          'DOMAIN_RECEIPT_CONFLICT',
          `Receipt '${data.receiptId}' was already recorded with different content`,
          { details: { receiptId: data.receiptId } },
        );
      }
      checkCustomSection(data, command.definitions);
      const evaluation = evaluateCounted(countedIn(state, { data }), command.definitions);
      return [
        { type: EventTypes.ReceiptRecorded, data },
        ...verdictChanges(state, data.unit, evaluation, {
          kind: 'receipt-recorded',
          receiptId: data.receiptId,
        }),
      ];
    }
    case 'RevokeReceipt': {
      const reason = requiredText(
        'DOMAIN_INVALID_COMMAND',
        'reason',
        command.reason,
        MAX_TEXT_LENGTH,
      );
      const existing = state.receipts.get(command.receiptId);
      if (existing === undefined || state.unit === undefined)
        throw new ProvenantError(
          'DOMAIN_RECEIPT_NOT_FOUND',
          `Receipt '${String(command.receiptId)}' does not exist`,
          {
            details: { receiptId: command.receiptId },
          },
        );
      if (existing.revoked !== undefined)
        throw new ProvenantError(
          'DOMAIN_RECEIPT_ALREADY_REVOKED',
          `Receipt '${command.receiptId}' was already revoked: ${existing.revoked.reason}`,
          { details: { receiptId: command.receiptId } },
        );
      const revokedBy = optionalText(
        'DOMAIN_INVALID_COMMAND',
        'revokedBy',
        command.revokedBy,
        MAX_NAME_LENGTH,
      );
      const data: ReceiptRevokedData = {
        receiptId: command.receiptId,
        unit: state.unit,
        action: existing.data.action,
        reason,
        ...(revokedBy === undefined ? {} : { revokedBy }),
      };
      const evaluation = evaluateCounted(
        countedIn(state, { ...existing, revoked: { reason } }),
        command.definitions,
      );
      return [
        { type: EventTypes.ReceiptRevoked, data },
        ...verdictChanges(state, state.unit, evaluation, {
          kind: 'receipt-revoked',
          receiptId: command.receiptId,
        }),
      ];
    }
    case 'Evaluate': {
      if (state.unit === undefined)
        throw new ProvenantError('DOMAIN_UNIT_NOT_FOUND', 'The unit has no events');
      const evaluation = evaluateCounted(countedIn(state), command.definitions);
      return verdictChanges(state, state.unit, evaluation, { kind: 'evaluation' });
    }
  }
}

/** The current evaluation of a unit state under `definitions` (no events decided). */
export const evaluateUnitState = (state: UnitState, definitions: Definitions): UnitEvaluation =>
  evaluateCounted(countedIn(state), definitions);

/** The unit decider, in the shape the command handler and the test helpers take. */
export const unitDecider = {
  decide: decideUnit,
  evolve: evolveUnit,
  initialState: initialUnitState,
};
