// The definition digests a VSA's policy is computed from (docs/provenance.md,
// "Policy digest"): the hex SHA-256 of the RFC 8785 canonical JSON of the
// `StageDefined.v1` / `GateDefined.v1` event data of one version. For a recorded
// stage verdict they come from the gate and stage streams (the versions the
// verdict names); for "the current definitions" from the definitions snapshot,
// which holds the same event data.
import {
  EventTypes,
  type GateDefinedData,
  type StageDefinedData,
  type StageVerdictData,
} from '../../domain/events.js';
import { gateStreamName, stageStreamName } from '../../domain/names.js';
import { ProvenantError } from '../../errors.js';
import type { EventStore } from '../../eventStore/types.js';
import {
  STAGE_POLICY_URI_PREFIX,
  definitionDigest,
  stagePolicyDigest,
  type VsaGate,
} from '../../provenance/index.js';
import type { DefinitionsSnapshot } from '../definitionsStore.js';

export { definitionDigest };

/** What `stagePolicyDigest` needs for one stage version. */
export interface StagePolicyInput {
  stageId: string;
  stageVersion: number;
  stageDefinitionDigest: string;
  gates: VsaGate[];
}

/** A stage's policy as release tooling compares it: the VSA's `policy.uri` and `policy.digest.sha256`. */
export interface StagePolicy {
  stageId: string;
  stageVersion: number;
  /** False when the stage is disabled: nothing passes it under the current definitions. */
  enabled: boolean;
  uri: string;
  digest: string;
  gates: VsaGate[];
}

/** The policy URI of a stage version (as buildVsa writes it). */
export const stagePolicyUri = (stageId: string, version: number): string =>
  `${STAGE_POLICY_URI_PREFIX}${stageId}/v${version}`;

async function definedVersion<Data extends { version: number }>(
  store: EventStore,
  stream: string,
  type: string,
  version: number,
  what: string,
): Promise<Data> {
  const { events } = await store.readStream(stream);
  const found = events.find(
    (e) => e.type === type && (e.data as { version?: unknown }).version === version,
  );
  if (found === undefined)
    throw new ProvenantError(
      'INTERNAL',
      `${what} version ${version} is named by a verdict but not defined in ${stream}`,
    );
  return found.data as Data;
}

/** The policy input of a recorded stage verdict: the stage and gate versions it names. */
export async function verdictPolicy(
  store: EventStore,
  verdict: StageVerdictData,
): Promise<StagePolicyInput> {
  const stage = await definedVersion<StageDefinedData>(
    store,
    stageStreamName(verdict.stageId),
    EventTypes.StageDefined,
    verdict.stageVersion,
    `Stage ${verdict.stageId}`,
  );
  const gates: VsaGate[] = [];
  for (const ref of verdict.gates) {
    const gate = await definedVersion<GateDefinedData>(
      store,
      gateStreamName(ref.gateId),
      EventTypes.GateDefined,
      ref.gateVersion,
      `Gate ${ref.gateId}`,
    );
    gates.push({
      gateId: ref.gateId,
      gateVersion: ref.gateVersion,
      definitionDigest: definitionDigest(gate),
    });
  }
  return {
    stageId: verdict.stageId,
    stageVersion: verdict.stageVersion,
    stageDefinitionDigest: definitionDigest(stage),
    gates,
  };
}

/**
 * The stage's policy under the current definitions: its current version and its
 * enabled gates, in stage order, at their current versions — what a verdict
 * reached now would name. DOMAIN_STAGE_NOT_FOUND for a stage never defined.
 */
export function currentStagePolicy(snapshot: DefinitionsSnapshot, stageId: string): StagePolicy {
  const stage = snapshot.stages.get(stageId);
  if (stage?.definition === undefined)
    throw new ProvenantError('DOMAIN_STAGE_NOT_FOUND', `Stage '${stageId}' is not defined`, {
      details: { stageId },
    });
  const gates: VsaGate[] = [];
  for (const gateId of stage.definition.gates) {
    const gate = snapshot.gates.get(gateId);
    if (gate?.definition === undefined || !gate.enabled) continue;
    gates.push({
      gateId,
      gateVersion: gate.version,
      definitionDigest: definitionDigest(gate.definition),
    });
  }
  const input: StagePolicyInput = {
    stageId,
    stageVersion: stage.version,
    stageDefinitionDigest: definitionDigest(stage.definition),
    gates,
  };
  return {
    stageId,
    stageVersion: stage.version,
    enabled: stage.enabled,
    uri: stagePolicyUri(stageId, stage.version),
    digest: stagePolicyDigest(input),
    gates,
  };
}
