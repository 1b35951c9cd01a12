// A unit's status, folded from its stream (one stream read: linear in the unit's
// events, independent of the log), evaluated under the current definitions.
import { unitStream } from '../unitStreams.js';
import { ProvenantError } from '../../errors.js';
import { normalizeUnitKey } from '../../domain/unitKey.js';
import { loadStream } from '../commandHandler.js';
import type { ServiceContext } from '../context.js';
import { unitFold } from '../folds.js';
import type { UnitStatus } from '../types.js';
import { unitStatusOf } from './views.js';

/** The `getUnitStatus` query. */
export const getUnitStatus =
  (ctx: ServiceContext) =>
  async (unitKey: string): Promise<UnitStatus> => {
    const unit = normalizeUnitKey(unitKey);
    const loaded = await loadStream(ctx.store, unitStream(unit), unitFold);
    if (loaded.currentRevision === 'no_stream')
      throw new ProvenantError('DOMAIN_UNIT_NOT_FOUND', `Unit '${unit}' has no receipts`, {
        details: { unit },
      });
    const { definitions } = await ctx.definitions.load();
    return unitStatusOf(unit, loaded.currentRevision, loaded.state, loaded.recorded, definitions);
  };
