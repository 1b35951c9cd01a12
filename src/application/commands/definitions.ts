// Define and disable gates and stages: each a command on the definition's own
// stream (`gate-<id>`, `stage-<id>`), versioned, never deleted. This process sees
// its own changes at once (the definitions cache is invalidated after each).
import type {
  DomainEvent,
  GateDefinitionBody,
  GateEvent,
  StageDefinitionBody,
  StageEvent,
} from '../../domain/events.js';
import { stageCatalogOf } from '../../domain/definitions.js';
import { decideGate, type GateState } from '../../domain/gate.js';
import { gateStreamName, stageStreamName } from '../../domain/names.js';
import { decideStage, type StageState } from '../../domain/stage.js';
import type { StreamFold } from '../commandHandler.js';
import { handleOptions, type ServiceContext } from '../context.js';
import { gateFold, stageFold } from '../folds.js';
import { gateView, stageView } from '../queries/views.js';
import type {
  CommandOptions,
  DefinitionCommands,
  DefinitionResult,
  GateView,
  StageView,
} from '../types.js';

/** Runs one command on a gate's or stage's stream and reports whether it changed anything. */
async function definitionCommand<State, Event extends DomainEvent, View>(
  ctx: ServiceContext,
  stream: string,
  fold: StreamFold<State, Event>,
  view: (state: State) => View,
  decide: (state: State) => Event[] | Promise<Event[]>,
  options: CommandOptions,
): Promise<DefinitionResult<View>> {
  try {
    const result = await ctx.handle(ctx.store, stream, fold, decide, handleOptions(ctx, options));
    return { changed: result.events.length > 0, view: view(result.newState) };
  } finally {
    ctx.definitions.invalidate();
  }
}

const gateCommand = async (
  ctx: ServiceContext,
  gateId: string,
  decide: (state: GateState) => GateEvent[],
  options: CommandOptions,
): Promise<DefinitionResult<GateView>> =>
  definitionCommand(ctx, gateStreamName(gateId), gateFold, gateView, decide, options);

const stageCommand = async (
  ctx: ServiceContext,
  stageId: string,
  decide: (state: StageState) => StageEvent[] | Promise<StageEvent[]>,
  options: CommandOptions,
): Promise<DefinitionResult<StageView>> =>
  definitionCommand(ctx, stageStreamName(stageId), stageFold, stageView, decide, options);

/** The definition use cases: define and disable, for gates and stages. */
export const definitionCommands = (ctx: ServiceContext): DefinitionCommands => ({
  defineGate: (gateId: string, definition: GateDefinitionBody, options: CommandOptions = {}) =>
    gateCommand(
      ctx,
      gateId,
      (state) => decideGate({ type: 'DefineGate', gateId, definition }, state),
      options,
    ),
  disableGate: (gateId: string, reason?: string, options: CommandOptions = {}) =>
    gateCommand(
      ctx,
      gateId,
      (state) =>
        decideGate(
          { type: 'DisableGate', gateId, ...(reason === undefined ? {} : { reason }) },
          state,
        ),
      options,
    ),
  defineStage: (stageId: string, definition: StageDefinitionBody, options: CommandOptions = {}) =>
    stageCommand(
      ctx,
      stageId,
      async (state) => {
        const { definitions } = await ctx.definitions.load();
        return decideStage(
          { type: 'DefineStage', stageId, definition, catalog: stageCatalogOf(definitions) },
          state,
        );
      },
      options,
    ),
  disableStage: (stageId: string, reason?: string, options: CommandOptions = {}) =>
    stageCommand(
      ctx,
      stageId,
      (state) =>
        decideStage(
          { type: 'DisableStage', stageId, ...(reason === undefined ? {} : { reason }) },
          state,
        ),
      options,
    ),
});
