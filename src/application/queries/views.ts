// Pure views of decider states and stored events, as the API shows them: verdict
// changes, gate and stage views, and a unit's status.
import { unitNamesOf } from '../../domain/purl.js';
import type { Definitions } from '../../domain/definitions.js';
import {
  EventTypes,
  type GateVerdictData,
  type ReceiptRecordedData,
  type StageVerdictData,
  type VerdictTrigger,
} from '../../domain/events.js';
import type { GateState } from '../../domain/gate.js';
import type { StageState } from '../../domain/stage.js';
import { evaluateCounted, type CountedLookup } from '../../domain/evaluation.js';
import { countedIn, type UnitState } from '../../domain/unit.js';
import type { RecordedEvent } from '../../eventStore/types.js';
import type {
  GateStatus,
  GateView,
  ReceiptView,
  StageStatus,
  StageView,
  UnitStatus,
  VerdictChange,
} from '../types.js';

const VERDICT_TYPES: ReadonlySet<string> = new Set([
  EventTypes.GatePassed,
  EventTypes.GateFailed,
  EventTypes.GateReopened,
  EventTypes.StagePassed,
  EventTypes.StageReopened,
]);

/** A verdict event, stored as `id` at `position`, as reported to callers. */
export function verdictChange(
  event: { type: string; data: unknown },
  id: string,
  position: bigint,
): VerdictChange {
  const common = { type: event.type, eventId: id, position: position.toString() };
  if (event.type === EventTypes.StagePassed || event.type === EventTypes.StageReopened) {
    const data = event.data as StageVerdictData;
    return {
      ...common,
      stageId: data.stageId,
      stageVersion: data.stageVersion,
      verdict: data.passed ? 'stage-passed' : 'stage-reopened',
      receiptIds: data.receiptIds,
    };
  }
  const data = event.data as GateVerdictData;
  return {
    ...common,
    gateId: data.gateId,
    gateVersion: data.gateVersion,
    verdict: data.verdict,
    receiptIds: data.receiptIds,
  };
}

const sameTrigger = (a: VerdictTrigger, b: VerdictTrigger): boolean =>
  a.kind === b.kind &&
  ('receiptId' in a ? a.receiptId : '') === ('receiptId' in b ? b.receiptId : '');

/** The verdict events that directly follow `index` in `recorded` and carry `trigger`. */
export function followingVerdicts(
  recorded: readonly RecordedEvent[],
  index: number,
  trigger: VerdictTrigger,
): VerdictChange[] {
  const out: VerdictChange[] = [];
  for (let i = index + 1; i < recorded.length; i++) {
    const event = recorded[i] as RecordedEvent;
    if (!VERDICT_TYPES.has(event.type)) break;
    if (!sameTrigger((event.data as { trigger: VerdictTrigger }).trigger, trigger)) break;
    out.push(verdictChange(event, event.id, event.position));
  }
  return out;
}

/** While a gate or stage is disabled, why (when a reason was given). */
const disabledReasonOf = (state: GateState | StageState): { disabledReason?: string } =>
  !state.enabled && state.disabledReason !== undefined
    ? { disabledReason: state.disabledReason }
    : {};

export const gateView = (state: GateState): GateView => {
  const {
    gateId: _g,
    version: _v,
    ...body
  } = state.definition as NonNullable<GateState['definition']>;
  return {
    gateId: state.gateId as string,
    version: state.version,
    enabled: state.enabled,
    ...body,
    ...disabledReasonOf(state),
  };
};

export const stageView = (state: StageState): StageView => {
  const {
    stageId: _s,
    version: _v,
    ...body
  } = state.definition as NonNullable<StageState['definition']>;
  return {
    stageId: state.stageId as string,
    version: state.version,
    enabled: state.enabled,
    ...body,
    ...disabledReasonOf(state),
  };
};

/** Orders views by an id. */
export const byId =
  <T>(id: (v: T) => string) =>
  (a: T, b: T): number =>
    id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0;

/** Where a receipt was recorded and how it stands, beside its data in a receipt view. */
export interface ReceiptStanding {
  eventId: string;
  position: string;
  recordedAt: string;
  revoked?: ReceiptView['revoked'] | undefined;
  counted: boolean;
}

/**
 * The receipt view: the receipt's data and its standing, one object, whether
 * from the unit's stream (below) or from a ledger row (readModels/unitStatus.ts).
 */
export const receiptViewOf = (data: ReceiptRecordedData, s: ReceiptStanding): ReceiptView =>
  Object.assign(
    {},
    data,
    { eventId: s.eventId, position: s.position, recordedAt: s.recordedAt },
    s.revoked === undefined ? { counted: s.counted } : { revoked: s.revoked, counted: s.counted },
  );

/** The receipts of a unit stream in log order, each with its revocation and whether it counts. */
function receiptViews(state: UnitState, recorded: readonly RecordedEvent[]): ReceiptView[] {
  // The counted receipt of each action, looked up once per action, not per receipt.
  const lookup = countedIn(state);
  const counted = new Set<string | undefined>();
  for (const action of state.receiptsByAction.keys()) counted.add(lookup.get(action)?.receiptId);
  return recorded
    .filter((e) => e.type === EventTypes.ReceiptRecorded)
    .map((e) => {
      const data = e.data as ReceiptRecordedData;
      return receiptViewOf(data, {
        eventId: e.id,
        position: e.position.toString(),
        recordedAt: e.recordedAt,
        revoked: state.receipts.get(data.receiptId)?.revoked,
        counted: counted.has(data.receiptId),
      });
    });
}

/**
 * What a unit's status is computed from, whether folded from its stream or read
 * from read models: its receipts (in log order), the counted receipt per action,
 * and the last verdict recorded per gate and stage.
 */
export interface UnitStatusSource {
  unit: string;
  revision: number;
  receipts: ReceiptView[];
  counted: CountedLookup;
  gateVerdicts: ReadonlyMap<string, NonNullable<GateStatus['recorded']>>;
  stageVerdicts: ReadonlyMap<string, NonNullable<StageStatus['recorded']>>;
}

/**
 * A unit's status: its receipts, and each gate's and stage's verdict as recorded in
 * its stream and as evaluated under `defs` now.
 */
export function unitStatusOf(
  unit: string,
  revision: number,
  state: UnitState,
  recorded: readonly RecordedEvent[],
  defs: Definitions,
): UnitStatus {
  return unitStatusFrom(
    {
      unit,
      revision,
      receipts: receiptViews(state, recorded),
      counted: countedIn(state),
      gateVerdicts: state.gateVerdicts,
      stageVerdicts: state.stageVerdicts,
    },
    defs,
  );
}

/** The status of `source` with each gate and stage evaluated under `defs`. */
export function unitStatusFrom(source: UnitStatusSource, defs: Definitions): UnitStatus {
  const { unit, revision, receipts } = source;
  const evaluation = evaluateCounted(source.counted, defs);
  const gateIds = [...new Set([...defs.gates.keys(), ...source.gateVerdicts.keys()])].sort();
  const gates: GateStatus[] = gateIds.map((gateId) => {
    const recordedVerdict = source.gateVerdicts.get(gateId);
    const current = evaluation.gates.get(gateId);
    return {
      gateId,
      enabled: defs.gates.get(gateId)?.enabled ?? false,
      recorded: recordedVerdict
        ? {
            verdict: recordedVerdict.verdict,
            gateVersion: recordedVerdict.gateVersion,
            receiptIds: recordedVerdict.receiptIds,
          }
        : null,
      current: current
        ? {
            verdict: current.verdict,
            gateVersion: current.gateVersion,
            receiptIds: current.receiptIds,
            missingActions: current.missingActions,
          }
        : null,
      upToDate:
        current === undefined || current.verdict === (recordedVerdict?.verdict ?? 'pending'),
    };
  });
  const stageIds = [...new Set([...defs.stages.keys(), ...source.stageVerdicts.keys()])].sort();
  const stages: StageStatus[] = stageIds.map((stageId) => {
    const recordedVerdict = source.stageVerdicts.get(stageId);
    const current = evaluation.stages.get(stageId);
    return {
      stageId,
      enabled: defs.stages.get(stageId)?.enabled ?? false,
      recorded: recordedVerdict
        ? {
            passed: recordedVerdict.passed,
            stageVersion: recordedVerdict.stageVersion,
            receiptIds: recordedVerdict.receiptIds,
          }
        : null,
      current: current
        ? {
            passed: current.passed,
            stageVersion: current.stageVersion,
            receiptIds: current.receiptIds,
          }
        : null,
      upToDate: current === undefined || current.passed === (recordedVerdict?.passed ?? false),
    };
  });
  // The unit's names (issue 18): its canonical purl and, where it has one, its NVRPP.
  return { unit, ...unitNamesOf(unit), revision, receipts, gates, stages };
}
