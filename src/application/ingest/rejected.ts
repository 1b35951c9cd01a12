// An event that ingest accepted, refused by a check of the application (a
// producer's scope, a time ahead of the clock): a rejected item like ingest's own.
import type { ProvenantError } from '../../errors.js';
import type { IngestResult } from '../../ingest/index.js';

/** The accepted `result` rejected with `error` instead, naming its event as ingest does. */
export function rejectedWith(
  result: Extract<IngestResult, { ok: true }>,
  error: ProvenantError,
): IngestResult {
  const { context } = result.command;
  return {
    ok: false,
    index: result.index,
    ...(context.id === undefined ? {} : { id: context.id }),
    ...(context.source === undefined ? {} : { source: context.source }),
    error,
  };
}
