// The gate and stage definitions evaluation runs under: the current version of
// every gate and stage, folded from the `gate-` and `stage-` streams, with each
// gate's custom schema compiled once. Deciders of the unit stream receive this as
// part of their command, so they stay pure.
import { compileCustomSchema, type CustomValidator } from './customSchema.js';
import type { GateDefinedData } from './events.js';
import type { GateState } from './gate.js';
import type { StageCatalog, StageState } from './stage.js';

/** A gate's current definition as evaluation sees it. */
export interface GateDefinition {
  gateId: string;
  version: number;
  enabled: boolean;
  requiredActions: readonly string[];
  external: boolean;
  owner?: string;
  /** The compiled custom-section schema, when the gate has one. */
  validateCustom?: CustomValidator;
  definition: GateDefinedData;
}

/** A stage's current definition as evaluation sees it. */
export interface StageDefinition {
  stageId: string;
  version: number;
  enabled: boolean;
  gates: readonly string[];
  prerequisites: readonly string[];
}

/** Every current gate and stage definition, keyed by id. */
export interface Definitions {
  gates: ReadonlyMap<string, GateDefinition>;
  stages: ReadonlyMap<string, StageDefinition>;
}

/** No gates and no stages. */
export const emptyDefinitions = (): Definitions => ({ gates: new Map(), stages: new Map() });

export interface BuildDefinitionsOptions {
  /** Compiles a gate's schema; pass a caching one to compile each version once. */
  compile?: (definition: GateDefinedData) => CustomValidator | undefined;
}

const compileDefinition = (definition: GateDefinedData): CustomValidator | undefined =>
  definition.customSchema === undefined ? undefined : compileCustomSchema(definition.customSchema);

/** Builds the evaluation view from folded gate and stage states (never-defined ones are skipped). */
export function buildDefinitions(
  gates: Iterable<GateState>,
  stages: Iterable<StageState>,
  { compile = compileDefinition }: BuildDefinitionsOptions = {},
): Definitions {
  const gateMap = new Map<string, GateDefinition>();
  for (const state of gates) {
    const def = state.definition;
    if (def === undefined) continue;
    const gate: GateDefinition = {
      gateId: def.gateId,
      version: state.version,
      enabled: state.enabled,
      requiredActions: def.requiredActions,
      external: def.external === true,
      definition: def,
    };
    if (def.owner !== undefined) gate.owner = def.owner;
    const validator = compile(def);
    if (validator !== undefined) gate.validateCustom = validator;
    gateMap.set(def.gateId, gate);
  }
  const stageMap = new Map<string, StageDefinition>();
  for (const state of stages) {
    const def = state.definition;
    if (def === undefined) continue;
    stageMap.set(def.stageId, {
      stageId: def.stageId,
      version: state.version,
      enabled: state.enabled,
      gates: def.gates,
      prerequisites: def.prerequisites,
    });
  }
  return { gates: gateMap, stages: stageMap };
}

/** What a new stage definition is checked against (see `decideStage`). */
export const stageCatalogOf = (definitions: Definitions): StageCatalog => ({
  gates: new Set(definitions.gates.keys()),
  prerequisites: new Map(
    [...definitions.stages.values()].map((s) => [s.stageId, s.prerequisites] as const),
  ),
});
