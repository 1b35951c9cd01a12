// JSON views of stored events for the HTTP API. Positions are decimal strings:
// they are 64-bit on some backends and must survive JavaScript clients.
import { toEventJson, type EventJson } from '../eventStore/eventJson.js';
import { positionSchema } from './schemas.js';

/** An event as the API serves it (see eventStore/eventJson.ts). */
export type EventView = EventJson;
export const toEventView = toEventJson;

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
