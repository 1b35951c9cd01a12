// The filters of the log's routes (GET /v1/events and its live feed
// /v1/events/stream): a stream prefix or an event type prefix, not both.
import { ProvenantError } from '../errors.js';
import type { EventFilter } from '../eventStore/types.js';

export interface FilterQuery {
  stream_prefix?: string;
  type_prefix?: string;
}

/** The querystring properties of the filters. */
export const filterProperties = {
  stream_prefix: {
    type: 'string',
    minLength: 1,
    maxLength: 256,
    description: 'Only streams starting with this',
  },
  type_prefix: {
    type: 'string',
    minLength: 1,
    maxLength: 256,
    description: 'Only event types starting with this',
  },
} as const;

/** The filter a query asks for, if any; HTTP_BAD_REQUEST when it asks for both. */
export function eventFilterOf({
  stream_prefix,
  type_prefix,
}: FilterQuery): EventFilter | undefined {
  if (stream_prefix !== undefined && type_prefix !== undefined)
    throw new ProvenantError(
      'HTTP_BAD_REQUEST',
      'Filter by stream_prefix or by type_prefix, not both',
    );
  if (stream_prefix !== undefined) return { streamPrefix: [stream_prefix] };
  if (type_prefix !== undefined) return { eventTypePrefix: [type_prefix] };
  return undefined;
}
