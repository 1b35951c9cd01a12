// Gates (DESIGN.md §1): a checkpoint that collects receipts for a set of required
// actions, optionally with a JSON Schema for the receipts' custom section. Each
// definition is a new version (1, 2, 3 …); a gate can be disabled, never deleted.
// An external gate (owned by another team) is a gate like any other, flagged with
// its owner. Decider style: `decideGate(command, state)`, `evolveGate(state, event)`.
import { canonicalize } from '../encoding/canonicalJson.js';
import { ProvenantError } from '../errors.js';
import { compileCustomSchema } from './customSchema.js';
import {
  EventTypes,
  type GateDefinedData,
  type GateDefinitionBody,
  type GateEvent,
} from './events.js';
import { decideDefine, decideDisable, evolveDisabled } from './lifecycle.js';
import { assertActionName, assertGateId } from './names.js';
import {
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
  isPlainObject,
  optionalText,
  uniqueList,
} from './validate.js';

/** Define a gate, or a new version of it (PUT semantics). */
export interface DefineGate {
  type: 'DefineGate';
  gateId: string;
  definition: GateDefinitionBody;
}

/** Disable a gate from now on. */
export interface DisableGate {
  type: 'DisableGate';
  gateId: string;
  reason?: string;
}

export type GateCommand = DefineGate | DisableGate;

/** A gate folded from its stream. `version` 0 means it was never defined. */
export interface GateState {
  gateId: string | undefined;
  version: number;
  enabled: boolean;
  /** The current definition (kept when disabled, for history). */
  definition: GateDefinedData | undefined;
  disabledReason?: string;
}

export const initialGateState = (): GateState => ({
  gateId: undefined,
  version: 0,
  enabled: false,
  definition: undefined,
});

export function evolveGate(state: GateState, event: GateEvent): GateState {
  switch (event.type) {
    case EventTypes.GateDefined:
      return {
        gateId: event.data.gateId,
        version: event.data.version,
        enabled: true,
        definition: event.data,
      };
    case EventTypes.GateDisabled:
      return evolveDisabled(state, event.data.reason);
  }
}

/**
 * Checks a gate definition body and returns it in normal form (known fields only,
 * `external` always present). Compiles the custom schema, so a schema ajv refuses,
 * a remote `$ref` or `$data` fails here with `DOMAIN_INVALID_GATE_SCHEMA`.
 */
export function normalizeGateDefinition(body: unknown): GateDefinitionBody {
  if (!isPlainObject(body))
    throw new ProvenantError('DOMAIN_INVALID_GATE', 'A gate definition must be a JSON object');
  const code = 'DOMAIN_INVALID_GATE';
  const out: GateDefinitionBody = {
    requiredActions: uniqueList(code, 'requiredActions', body.requiredActions, (a) =>
      assertActionName(a, code),
    ),
  };
  const name = optionalText(code, 'name', body.name, MAX_NAME_LENGTH);
  if (name !== undefined) out.name = name;
  const description = optionalText(code, 'description', body.description, MAX_TEXT_LENGTH);
  if (description !== undefined) out.description = description;
  if (body.external !== undefined && typeof body.external !== 'boolean')
    throw new ProvenantError(code, 'external must be a boolean');
  out.external = body.external === true;
  const owner = optionalText(code, 'owner', body.owner, MAX_NAME_LENGTH);
  if (owner !== undefined) out.owner = owner;
  if (out.external && owner === undefined)
    throw new ProvenantError(code, 'An external gate must name its owner');
  if (body.customSchema !== undefined) {
    compileCustomSchema(body.customSchema);
    out.customSchema = body.customSchema as Record<string, unknown>;
  }
  return out;
}

const sameDefinition = (a: GateDefinitionBody, b: GateDefinitionBody): boolean =>
  canonicalize(bodyOf(a)) === canonicalize(bodyOf(b));

function bodyOf(data: GateDefinitionBody): GateDefinitionBody {
  const { requiredActions, name, description, customSchema, external, owner } = data;
  return { requiredActions, name, description, customSchema, external, owner };
}

/**
 * Decides a gate command. Defining an enabled gate with an identical definition
 * decides nothing (a repeated PUT does not create a version); defining a disabled
 * gate enables it again as a new version. Disabling an unknown gate is
 * `DOMAIN_GATE_NOT_FOUND`; disabling a disabled gate decides nothing.
 */
export function decideGate(command: GateCommand, state: GateState): GateEvent[] {
  const gateId = assertGateId(command.gateId);
  switch (command.type) {
    case 'DefineGate': {
      const definition = normalizeGateDefinition(command.definition);
      const version = decideDefine(state, definition, sameDefinition);
      if (version === undefined) return [];
      return [{ type: EventTypes.GateDefined, data: { gateId, version, ...definition } }];
    }
    case 'DisableGate': {
      const disabled = decideDisable(
        state,
        command.reason,
        () =>
          new ProvenantError('DOMAIN_GATE_NOT_FOUND', `Gate '${gateId}' is not defined`, {
            details: { gateId },
          }),
      );
      if (disabled === undefined) return [];
      return [
        {
          type: EventTypes.GateDisabled,
          data: { gateId, version: state.version, ...disabled },
        },
      ];
    }
  }
}

/** The gate decider, in the shape the command handler and the test helpers take. */
export const gateDecider = {
  decide: decideGate,
  evolve: evolveGate,
  initialState: initialGateState,
};
