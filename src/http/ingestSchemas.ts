// JSON Schemas of the ingest routes' replies: one outcome, and a batch report.
import { positionSchema, verdictChangeSchema } from './schemas.js';

/** JSON Schema of one ingest outcome (`IngestOutcome`), shared with the JUnit route. */
export const outcomeSchema = {
  type: 'object',
  required: ['kind', 'eventId', 'stream', 'revision', 'position', 'duplicate'],
  additionalProperties: true,
  properties: {
    kind: { type: 'string', enum: ['receipt', 'pipeline-event', 'chain-pending'] },
    eventId: { type: 'string', description: 'Store id (ULID) of the stored event' },
    receiptId: { type: 'string', description: 'Receipts only' },
    unit: {
      type: ['string', 'null'],
      description:
        'Receipts: the normalised unit key; `chain-pending`: null (the chain names no unit yet)',
    },
    chainId: {
      type: 'string',
      description: '`chain-pending` only: the CDEvents chain the event waits for (docs/chains.md)',
    },
    stream: { type: 'string' },
    revision: { type: 'integer', minimum: 0 },
    position: positionSchema,
    duplicate: {
      type: 'boolean',
      description: 'True on redelivery: nothing was appended, this is the original result',
    },
    verdicts: { type: 'array', items: verdictChangeSchema, description: 'Receipts only' },
  },
} as const;

/** JSON Schema of a batch report (`BatchReport`). */
export const batchSchema = {
  type: 'object',
  required: ['mode', 'total', 'accepted', 'duplicates', 'rejected', 'results'],
  additionalProperties: true,
  properties: {
    mode: { type: 'string', enum: ['batch'] },
    total: { type: 'integer' },
    accepted: { type: 'integer', description: 'Appended by this request' },
    duplicates: { type: 'integer', description: 'Already stored: nothing appended' },
    rejected: { type: 'integer', description: 'Invalid or conflicting: nothing appended' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'ok', 'status'],
        additionalProperties: true,
        properties: {
          index: { type: 'integer', minimum: 0 },
          ok: { type: 'boolean' },
          status: { type: 'integer', description: 'The status this event alone would get' },
          id: { type: 'string' },
          source: { type: 'string' },
          result: outcomeSchema,
          problem: {
            type: 'object',
            additionalProperties: true,
            description: 'RFC 9457 problem details of a rejected event',
          },
        },
      },
    },
  },
} as const;
