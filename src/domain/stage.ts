// Stages (DESIGN.md §1): an ordered set of gates, optionally with prerequisite
// stages. Versioned like gates, disabled never deleted. A stage may only name gates
// and stages that exist, and its prerequisites must not form a cycle.
import { canonicalize } from '../encoding/canonicalJson.js';
import { ProvenantError } from '../errors.js';
import {
  EventTypes,
  type StageDefinedData,
  type StageDefinitionBody,
  type StageEvent,
} from './events.js';
import { decideDefine, decideDisable, evolveDisabled } from './lifecycle.js';
import { assertGateId, assertStageId } from './names.js';
import {
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
  isPlainObject,
  optionalText,
  uniqueList,
} from './validate.js';

/** What a stage definition is checked against: the gates and stages that exist now. */
export interface StageCatalog {
  /** Ids of every defined gate (enabled or not). */
  gates: ReadonlySet<string>;
  /** Every defined stage (enabled or not) and its current prerequisites. */
  prerequisites: ReadonlyMap<string, readonly string[]>;
}

/** Define a stage, or a new version of it (PUT semantics). */
export interface DefineStage {
  type: 'DefineStage';
  stageId: string;
  definition: StageDefinitionBody;
  catalog: StageCatalog;
}

/** Disable a stage from now on. */
export interface DisableStage {
  type: 'DisableStage';
  stageId: string;
  reason?: string;
}

export type StageCommand = DefineStage | DisableStage;

/** A stage folded from its stream. `version` 0 means it was never defined. */
export interface StageState {
  stageId: string | undefined;
  version: number;
  enabled: boolean;
  definition: StageDefinedData | undefined;
  disabledReason?: string;
}

export const initialStageState = (): StageState => ({
  stageId: undefined,
  version: 0,
  enabled: false,
  definition: undefined,
});

export function evolveStage(state: StageState, event: StageEvent): StageState {
  switch (event.type) {
    case EventTypes.StageDefined:
      return {
        stageId: event.data.stageId,
        version: event.data.version,
        enabled: true,
        definition: event.data,
      };
    case EventTypes.StageDisabled:
      return evolveDisabled(state, event.data.reason);
  }
}

/** Checks a stage definition body's shape and returns it in normal form. */
export function normalizeStageDefinition(body: unknown): StageDefinitionBody & {
  prerequisites: string[];
} {
  const code = 'DOMAIN_INVALID_STAGE';
  if (!isPlainObject(body))
    throw new ProvenantError(code, 'A stage definition must be a JSON object');
  const out: StageDefinitionBody & { prerequisites: string[] } = {
    gates: uniqueList(code, 'gates', body.gates, assertGateId),
    prerequisites:
      body.prerequisites === undefined
        ? []
        : uniqueList(code, 'prerequisites', body.prerequisites, assertStageId, {
            allowEmpty: true,
          }),
  };
  const name = optionalText(code, 'name', body.name, MAX_NAME_LENGTH);
  if (name !== undefined) out.name = name;
  const description = optionalText(code, 'description', body.description, MAX_TEXT_LENGTH);
  if (description !== undefined) out.description = description;
  return out;
}

/**
 * The prerequisite path from `start` back to `start` if adding `start → prerequisites`
 * to `graph` closes a cycle, else undefined.
 */
export function findPrerequisiteCycle(
  start: string,
  prerequisites: readonly string[],
  graph: ReadonlyMap<string, readonly string[]>,
): string[] | undefined {
  const edges = (id: string): readonly string[] =>
    id === start ? prerequisites : (graph.get(id) ?? []);
  const done = new Set<string>();
  const walk = (id: string, path: string[]): string[] | undefined => {
    for (const next of edges(id)) {
      if (next === start) return [...path, next];
      if (done.has(next)) continue;
      done.add(next);
      const found = walk(next, [...path, next]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(start, [start]);
}

const sameDefinition = (a: StageDefinitionBody, b: StageDefinitionBody): boolean =>
  canonicalize({ g: a.gates, p: a.prerequisites ?? [], n: a.name, d: a.description }) ===
  canonicalize({ g: b.gates, p: b.prerequisites ?? [], n: b.name, d: b.description });

/**
 * Decides a stage command. A definition naming an unknown gate is
 * `DOMAIN_UNKNOWN_GATE`, an unknown prerequisite `DOMAIN_UNKNOWN_STAGE`, a
 * prerequisite cycle (including the stage itself) `DOMAIN_STAGE_CYCLE`. Identical
 * re-definitions and disabling a disabled stage decide nothing.
 */
export function decideStage(command: StageCommand, state: StageState): StageEvent[] {
  const stageId = assertStageId(command.stageId);
  switch (command.type) {
    case 'DefineStage': {
      const definition = normalizeStageDefinition(command.definition);
      const unknownGates = definition.gates.filter((g) => !command.catalog.gates.has(g));
      if (unknownGates.length > 0)
        throw new ProvenantError(
          'DOMAIN_UNKNOWN_GATE',
          `Stage '${stageId}' names gates that are not defined: ${unknownGates.join(', ')}`,
          { details: { stageId, unknownGates } },
        );
      const unknownStages = definition.prerequisites.filter(
        (s) => s !== stageId && !command.catalog.prerequisites.has(s),
      );
      if (unknownStages.length > 0)
        throw new ProvenantError(
          'DOMAIN_UNKNOWN_STAGE',
          `Stage '${stageId}' names prerequisite stages that are not defined: ${unknownStages.join(', ')}`,
          { details: { stageId, unknownStages } },
        );
      const cycle = findPrerequisiteCycle(
        stageId,
        definition.prerequisites,
        command.catalog.prerequisites,
      );
      if (cycle)
        throw new ProvenantError(
          'DOMAIN_STAGE_CYCLE',
          `Stage prerequisites would form a cycle: ${cycle.join(' -> ')}`,
          { details: { stageId, cycle } },
        );
      const version = decideDefine(state, definition, sameDefinition);
      if (version === undefined) return [];
      return [{ type: EventTypes.StageDefined, data: { stageId, version, ...definition } }];
    }
    case 'DisableStage': {
      const disabled = decideDisable(
        state,
        command.reason,
        () =>
          new ProvenantError('DOMAIN_STAGE_NOT_FOUND', `Stage '${stageId}' is not defined`, {
            details: { stageId },
          }),
      );
      if (disabled === undefined) return [];
      return [
        {
          type: EventTypes.StageDisabled,
          data: { stageId, version: state.version, ...disabled },
        },
      ];
    }
  }
}

/** The stage decider, in the shape the command handler and the test helpers take. */
export const stageDecider = {
  decide: decideStage,
  evolve: evolveStage,
  initialState: initialStageState,
};
