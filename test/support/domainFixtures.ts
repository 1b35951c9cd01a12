// Builders for domain tests: gate and stage definitions made the way the log makes
// them (through the deciders' own events), and receipts with sensible defaults.
import {
  buildDefinitions,
  decideGate,
  decideStage,
  evolveGate,
  evolveStage,
  initialGateState,
  initialStageState,
  stageCatalogOf,
  type Definitions,
  type GateDefinitionBody,
  type GateState,
  type ReceiptInput,
  type StageDefinitionBody,
  type StageState,
} from '../../src/domain/index.js';

export const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';

/** A sequence of definition changes, applied in order. */
export type DefinitionStep =
  | { gate: string; define: GateDefinitionBody }
  | { gate: string; disable: true }
  | { stage: string; define: StageDefinitionBody }
  | { stage: string; disable: true };

/** Definitions after applying `steps` through the gate and stage deciders. */
export function definitionsOf(...steps: DefinitionStep[]): Definitions {
  const gates = new Map<string, GateState>();
  const stages = new Map<string, StageState>();
  for (const step of steps) {
    if ('gate' in step) {
      const state = gates.get(step.gate) ?? initialGateState();
      const events = decideGate(
        'define' in step
          ? { type: 'DefineGate', gateId: step.gate, definition: step.define }
          : { type: 'DisableGate', gateId: step.gate },
        state,
      );
      gates.set(step.gate, events.reduce(evolveGate, state));
    } else {
      const state = stages.get(step.stage) ?? initialStageState();
      const catalog = stageCatalogOf(buildDefinitions(gates.values(), stages.values()));
      const events = decideStage(
        'define' in step
          ? { type: 'DefineStage', stageId: step.stage, definition: step.define, catalog }
          : { type: 'DisableStage', stageId: step.stage },
        state,
      );
      stages.set(step.stage, events.reduce(evolveStage, state));
    }
  }
  return buildDefinitions(gates.values(), stages.values());
}

/** A receipt for `UNIT` with the given action and outcome. */
export const receipt = (
  action: string,
  multipass: boolean,
  extra: Partial<ReceiptInput> = {},
): ReceiptInput => ({ unit: UNIT, action, multipass, ...extra });

let counter = 0;
/** A fresh, valid receipt id (ULID-shaped, increasing). */
export const nextReceiptId = (): string => `01J${String(++counter).padStart(23, '0')}`;
