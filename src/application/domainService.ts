// The domain's application API: every use case, each in its own module under
// commands/ and queries/, composed over one shared context (store, definitions
// cache, stream locks, unit-state cache). HTTP routes and the CLI call this; it
// holds no state of its own beyond those caches.
import { createServiceContext } from './context.js';
import { definitionCommands } from './commands/definitions.js';
import { evaluateUnit } from './commands/evaluateUnit.js';
import { recordReceipt } from './commands/recordReceipt.js';
import { recordReceipts } from './commands/recordReceipts.js';
import { revokeReceipt } from './commands/revokeReceipt.js';
import { definitionQueries } from './queries/definitions.js';
import { getUnitStatus } from './queries/unitStatus.js';
import type { DomainService, DomainServiceDeps } from './types.js';

/** Builds the domain service over an event store. */
export function createDomainService(deps: DomainServiceDeps): DomainService {
  const ctx = createServiceContext(deps);
  const unitStatus = getUnitStatus(ctx);
  return {
    recordReceipt: recordReceipt(ctx),
    recordReceipts: recordReceipts(ctx),
    revokeReceipt: revokeReceipt(ctx),
    ...definitionCommands(ctx),
    ...definitionQueries(ctx),
    getUnitStatus: unitStatus,
    evaluateUnit: evaluateUnit(ctx, unitStatus),
  };
}
