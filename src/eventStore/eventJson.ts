// A stored event as JSON: every field, the position as a decimal string (it is
// 64-bit on some backends and must survive JavaScript readers). The HTTP API
// serves events in this shape and exports write them in it, one per line.
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
