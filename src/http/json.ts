// JSON views of stored events for the HTTP API. Positions are decimal strings:
// they are 64-bit on some backends and must survive JavaScript clients.
import type { RecordedEvent } from '../eventStore/types.js';
import { positionSchema } from './schemas.js';

export interface EventView {
  id: string;
  type: string;
  stream: string;
  revision: number;
  position: string;
  recordedAt: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

export const toEventView = (event: RecordedEvent): EventView => ({
  id: event.id,
  type: event.type,
  stream: event.stream,
  revision: event.revision,
  position: event.position.toString(),
  recordedAt: event.recordedAt,
  data: event.data,
  metadata: event.metadata,
});

/** JSON Schema of `EventView`, shared by routes and the OpenAPI document. */
export const eventViewSchema = {
  type: 'object',
  required: ['id', 'type', 'stream', 'revision', 'position', 'recordedAt', 'data', 'metadata'],
  properties: {
    id: { type: 'string', description: 'ULID of the event' },
    type: { type: 'string' },
    stream: { type: 'string' },
    revision: { type: 'integer', minimum: 0 },
    position: positionSchema,
    recordedAt: { type: 'string', format: 'date-time' },
    data: {},
    metadata: { type: 'object', additionalProperties: true },
  },
} as const;
