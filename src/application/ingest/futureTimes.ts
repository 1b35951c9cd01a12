// A producer's times are its claims, and provenance repeats them: a receipt's
// `startedAt`/`finishedAt` become a signed attestation's `startedOn`/`finishedOn`.
// A time ahead of the store's own clock by more than the clock skew allowed is
// refused (INGEST_TIME_IN_FUTURE): a build cannot have finished in 2099, and a
// log that took the claim would sign it for ever. Checked where the clock is,
// here, not in `src/ingest`, which is a function of the request alone.
import { ProvenantError } from '../../errors.js';
import type { IngestCommand, IngestResult } from '../../ingest/index.js';
import { rfc3339Millis } from '../../rfc3339.js';
import { rejectedWith } from './rejected.js';

/** The producer's times of an event, by name: the CloudEvent time, a receipt's or CDEvent's. */
function claimedTimes(command: IngestCommand): [string, string | undefined][] {
  const times: [string, string | undefined][] = [['time', command.context.time]];
  if (command.kind === 'receipt')
    times.push(['startedAt', command.input.startedAt], ['finishedAt', command.input.finishedAt]);
  if (command.kind === 'chained-cdevent') {
    const data = command.event.data as { context?: { timestamp?: unknown } } | undefined;
    const timestamp = data?.context?.timestamp;
    times.push(['context.timestamp', typeof timestamp === 'string' ? timestamp : undefined]);
  }
  return times;
}

/** The result, or its rejection with INGEST_TIME_IN_FUTURE when it claims a time past `now` + `skewMs`. */
export function notAhead(result: IngestResult, nowMs: number, skewMs: number): IngestResult {
  if (!result.ok) return result;
  const { command } = result;
  for (const [name, time] of claimedTimes(command)) {
    const ms = time === undefined ? undefined : rfc3339Millis(time);
    if (ms === undefined || ms <= nowMs + skewMs) continue;
    const now = new Date(nowMs).toISOString();
    return rejectedWith(
      result,
      new ProvenantError(
        'INGEST_TIME_IN_FUTURE',
        `${name} ${time} lies ahead of the store's clock (${now}) by more than the ${skewMs / 1000} s allowed for clock skew (PROVENANT_CLOCK_SKEW_MS)`,
        { details: { [name]: time, now, skewMs } },
      ),
    );
  }
  return result;
}
