// Reads of the current gate and stage definitions, from the definitions cache
// (which reads only the definition streams' new events; see definitionsStore.ts).
import { ProvenantError } from '../../errors.js';
import { assertGateId, assertStageId } from '../../domain/names.js';
import type { ServiceContext } from '../context.js';
import type { DefinitionQueries } from '../types.js';
import { byId, gateView, stageView } from './views.js';

export const definitionQueries = (ctx: ServiceContext): DefinitionQueries => ({
  async getGate(gateId) {
    const id = assertGateId(gateId);
    const state = (await ctx.definitions.load()).gates.get(id);
    if (state === undefined)
      throw new ProvenantError('DOMAIN_GATE_NOT_FOUND', `Gate '${id}' is not defined`, {
        details: { gateId: id },
      });
    return gateView(state);
  },
  async listGates() {
    const { gates } = await ctx.definitions.load();
    return [...gates.values()].map(gateView).sort(byId((g) => g.gateId));
  },
  async getStage(stageId) {
    const id = assertStageId(stageId);
    const state = (await ctx.definitions.load()).stages.get(id);
    if (state === undefined)
      throw new ProvenantError('DOMAIN_STAGE_NOT_FOUND', `Stage '${id}' is not defined`, {
        details: { stageId: id },
      });
    return stageView(state);
  },
  async listStages() {
    const { stages } = await ctx.definitions.load();
    return [...stages.values()].map(stageView).sort(byId((s) => s.stageId));
  },
  currentDefinitions: async (options) => (await ctx.definitions.load(options)).definitions,
});
