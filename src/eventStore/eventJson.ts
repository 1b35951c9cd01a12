// A stored event as JSON: every field, the position as a decimal string (it is
// 64-bit on some backends and must survive JavaScript readers). The HTTP API
// serves events in this shape and exports write them in it, one per line;
// fromEventJson reads one back (exports, `provenant verify` against a store).
import type { RecordedEvent, RecordedMetadata } from './types.js';

export interface EventJson {
  id: string;
  type: string;
  stream: string;
  revision: number;
  position: string;
  recordedAt: string;
  data: unknown;
  metadata: RecordedMetadata;
}

/** The JSON form of a stored event, fields in a fixed order. */
export const toEventJson = (event: RecordedEvent): EventJson => ({
  id: event.id,
  type: event.type,
  stream: event.stream,
  revision: event.revision,
  position: event.position.toString(),
  recordedAt: event.recordedAt,
  data: event.data,
  metadata: event.metadata,
});

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A stored event read back from its JSON form, or a message saying what is wrong with it. */
export function fromEventJson(value: unknown): RecordedEvent | string {
  if (!isRecord(value)) return 'not a JSON object';
  const { id, type, stream, revision, position, recordedAt, data, metadata } = value;
  if (typeof id !== 'string' || id === '') return 'no id';
  if (typeof type !== 'string' || type === '') return 'no type';
  if (typeof stream !== 'string' || stream === '') return 'no stream';
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0)
    return 'no revision';
  if (typeof position !== 'string' || !DECIMAL.test(position))
    return 'no position (a decimal string)';
  if (typeof recordedAt !== 'string') return 'no recordedAt';
  if (!('data' in value)) return 'no data';
  if (!isRecord(metadata)) return 'no metadata';
  if (typeof metadata['contentDigest'] !== 'string' || typeof metadata['prevDigest'] !== 'string')
    return 'no contentDigest or prevDigest in its metadata';
  return {
    id,
    type,
    stream,
    revision,
    position: BigInt(position),
    recordedAt,
    data,
    metadata: metadata as RecordedMetadata,
  };
}
