// Re-evaluate a unit under the current definitions and record any verdict that
// changed (after a gate or stage definition changed, say).
import { unitStream } from '../unitStreams.js';
import type { DomainEvent } from '../../domain/events.js';
import { decideUnit } from '../../domain/unit.js';
import { normalizeUnitKey } from '../../domain/unitKey.js';
import { exactUnitOptions, type ServiceContext } from '../context.js';
import { unitFold } from '../folds.js';
import { verdictChange } from '../queries/views.js';
import type { CommandOptions, EvaluateUnitResult, UnitStatus } from '../types.js';

/** The `evaluateUnit` use case; `status` reads the unit afterwards. */
export const evaluateUnit =
  (ctx: ServiceContext, status: (unit: string) => Promise<UnitStatus>) =>
  async (unitKey: string, options: CommandOptions = {}): Promise<EvaluateUnitResult> => {
    const unit = normalizeUnitKey(unitKey);
    const result = await ctx.handle(
      ctx.store,
      unitStream(unit),
      unitFold,
      async (state) => {
        const { definitions } = await ctx.definitions.load();
        return decideUnit({ type: 'Evaluate', definitions }, state);
      },
      exactUnitOptions(ctx, options),
    );
    const verdicts = (result.appendResult?.events ?? []).map((a, i) =>
      verdictChange(result.events[i] as DomainEvent, a.id, a.position),
    );
    return { unit, verdicts, status: await status(unit) };
  };
