// Evaluation (DESIGN.md §1), a pure function of a unit's receipts and the
// definitions in force:
//
// - for each required action of a gate, the latest (in log order) non-revoked
//   receipt counts; a later receipt supersedes an earlier one;
// - a gate is passed when every required action's counted receipt has
//   multipass true, failed when any has multipass false, otherwise pending;
// - disabled gates and disabled stages are not evaluated and do not count;
// - a stage passes when it has at least one enabled gate, all its enabled gates
//   pass, and all its enabled prerequisite stages pass.
//
// Same receipts + same definition versions ⇒ same verdicts. See docs/evaluation.md.
import type { Definitions, GateDefinition, StageDefinition } from './definitions.js';
import type {
  CountedReceipt,
  GateVerdict,
  GateVerdictData,
  StageGateRef,
  StagePrerequisiteRef,
  StageVerdictData,
} from './events.js';

/** A receipt as evaluation needs it. */
export interface EvaluatedReceipt {
  receiptId: string;
  action: string;
  multipass: boolean;
  revoked: boolean;
}

/** A gate's verdict and what it was computed from: the data of its verdict event, less the event's own fields. */
export type GateEvaluation = Omit<GateVerdictData, 'unit' | 'previousVerdict' | 'trigger'>;

/** A stage's verdict and what it was computed from: the data of its verdict event, less the event's own fields. */
export type StageEvaluation = Omit<StageVerdictData, 'unit' | 'trigger'>;

/** Every enabled gate's and stage's verdict for one unit. */
export interface UnitEvaluation {
  gates: Map<string, GateEvaluation>;
  stages: Map<string, StageEvaluation>;
}

/**
 * The counted receipt of each action, as evaluation looks it up. A `Map` from
 * `countedReceipts` serves, and so does a unit state's index (see unit.ts), which
 * answers without walking every receipt of the unit.
 */
export interface CountedLookup {
  get(action: string): EvaluatedReceipt | undefined;
}

/** The counted receipt per action: the latest non-revoked one in log order. */
export function countedReceipts(
  receipts: readonly EvaluatedReceipt[],
): Map<string, EvaluatedReceipt> {
  const latest = new Map<string, EvaluatedReceipt>();
  for (const receipt of receipts) if (!receipt.revoked) latest.set(receipt.action, receipt);
  return latest;
}

/** One gate's verdict given the counted receipt of each action. */
export function evaluateGate(gate: GateDefinition, counted: CountedLookup): GateEvaluation {
  const used: CountedReceipt[] = [];
  const missingActions: string[] = [];
  for (const action of gate.requiredActions) {
    const receipt = counted.get(action);
    if (receipt === undefined) missingActions.push(action);
    else used.push({ action, receiptId: receipt.receiptId, multipass: receipt.multipass });
  }
  const verdict: GateVerdict = used.some((r) => !r.multipass)
    ? 'failed'
    : missingActions.length === 0
      ? 'passed'
      : 'pending';
  return {
    gateId: gate.gateId,
    gateVersion: gate.version,
    verdict,
    counted: used,
    receiptIds: used.map((r) => r.receiptId),
    missingActions,
  };
}

/** Every enabled gate's and stage's verdict for a unit whose receipts are `receipts` (log order). */
export const evaluateUnit = (
  receipts: readonly EvaluatedReceipt[],
  definitions: Definitions,
): UnitEvaluation => evaluateCounted(countedReceipts(receipts), definitions);

/**
 * Every enabled gate's and stage's verdict given the counted receipt of each
 * action: the work depends on the definitions, not on how many receipts the unit has.
 */
export function evaluateCounted(counted: CountedLookup, definitions: Definitions): UnitEvaluation {
  const gates = new Map<string, GateEvaluation>();
  for (const gate of sortedById(definitions.gates, (g) => g.gateId))
    if (gate.enabled) gates.set(gate.gateId, evaluateGate(gate, counted));

  const stages = new Map<string, StageEvaluation>();
  const inProgress = new Set<string>();
  const evaluateStage = (stage: StageDefinition): StageEvaluation => {
    const done = stages.get(stage.stageId);
    if (done) return done;
    inProgress.add(stage.stageId);
    const gateRefs: StageGateRef[] = [];
    let gatesPass = true;
    for (const gateId of stage.gates) {
      const gate = definitions.gates.get(gateId);
      if (gate !== undefined && !gate.enabled) continue; // disabled gates do not count
      const evaluation = gates.get(gateId);
      // A gate the definitions do not know cannot pass (only a damaged log gets here).
      const verdict: GateVerdict = evaluation?.verdict ?? 'pending';
      gateRefs.push({ gateId, gateVersion: evaluation?.gateVersion ?? 0, verdict });
      if (verdict !== 'passed') gatesPass = false;
    }
    const prerequisites: StagePrerequisiteRef[] = [];
    let prerequisitesPass = true;
    for (const stageId of stage.prerequisites) {
      const prerequisite = definitions.stages.get(stageId);
      if (prerequisite !== undefined && !prerequisite.enabled) continue; // disabled: not counted
      // Unknown, or a cycle (definitions reject cycles; concurrent edits could still make one).
      const passed =
        prerequisite !== undefined &&
        !inProgress.has(stageId) &&
        evaluateStage(prerequisite).passed;
      prerequisites.push({ stageId, stageVersion: prerequisite?.version ?? 0, passed });
      if (!passed) prerequisitesPass = false;
    }
    const receiptIds = [
      ...new Set(gateRefs.flatMap((ref) => gates.get(ref.gateId)?.receiptIds ?? [])),
    ];
    const result: StageEvaluation = {
      stageId: stage.stageId,
      stageVersion: stage.version,
      // A stage without any enabled gate has nothing that could pass it.
      passed: gateRefs.length > 0 && gatesPass && prerequisitesPass,
      gates: gateRefs,
      prerequisites,
      receiptIds,
    };
    inProgress.delete(stage.stageId);
    stages.set(stage.stageId, result);
    return result;
  };
  for (const stage of sortedById(definitions.stages, (s) => s.stageId))
    if (stage.enabled) evaluateStage(stage);
  // Report stages in id order whatever order prerequisites were resolved in.
  const ordered = new Map([...stages.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { gates, stages: ordered };
}

function sortedById<T>(map: ReadonlyMap<string, T>, id: (value: T) => string): T[] {
  return [...map.values()].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}
