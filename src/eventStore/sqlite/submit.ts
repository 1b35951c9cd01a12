// The front of the write side: turns a checked append into the header and the
// chunks of serialised rows (ids, time, canonical JSON, digests) a writer takes.
import type { ExpectedRevision } from '../expectedRevision.js';
import { preparedRow } from '../eventRow.js';
import { newEventId } from '../ids.js';
import type { AppendResult, EventToAppend } from '../types.js';
import { prepareEvent, type PreparedEvent } from '../validation.js';
import type { AppendHeader, PreparedRow } from './writerCore.js';
import type { Writer } from './writers.js';

/** Events serialised per chunk handed to the writer. */
const CHUNK = 25;

export type Submit = (
  stream: string,
  expectedRevision: ExpectedRevision,
  events: readonly EventToAppend[],
) => Promise<AppendResult>;

/** The submit path to `writer`, recording times from `clock`. */
export function createSubmit(writer: Writer, clock: () => Date): Submit {
  /**
   * Serialises the events in chunks (ids, time, canonical JSON, digests) and hands
   * them to the writer. Keyed events are serialised first: their digests are part
   * of the checks the writer runs before inserting anything.
   */
  return function submit(
    stream: string,
    expectedRevision: ExpectedRevision,
    events: readonly EventToAppend[],
  ): Promise<AppendResult> {
    const prepared = new Map<number, PreparedEvent>();
    const keyed: AppendHeader['keyed'] = [];
    events.forEach((event, index) => {
      if (event.idempotencyKey === undefined) return;
      let digest = event.idempotencyDigest;
      if (digest === undefined) {
        const p = prepareEvent(event, index);
        prepared.set(index, p);
        digest = p.contentDigest;
      }
      keyed.push({ key: event.idempotencyKey, digest });
    });
    const now = clock();
    const recordedAt = now.toISOString();
    const nowMs = now.getTime();
    const chunkCount = Math.ceil(events.length / CHUNK);
    return writer.submit({ stream, expectedRevision, keyed }, chunkCount, (chunk) => {
      const rows: PreparedRow[] = [];
      const end = Math.min(events.length, (chunk + 1) * CHUNK);
      for (let index = chunk * CHUNK; index < end; index++) {
        const event = events[index] as EventToAppend;
        const p = prepared.get(index) ?? prepareEvent(event, index);
        rows.push(preparedRow(p, newEventId(nowMs), recordedAt));
      }
      return rows;
    });
  };
}
