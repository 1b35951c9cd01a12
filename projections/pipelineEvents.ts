// Pipeline events: one row per stored PipelineEventRecorded event (a CloudEvent
// that is neither a receipt nor a mapped CDEvent), for listing by source, type,
// subject or correlation id.
import type { RecordedEvent } from '../src/eventStore/types.js';
import type { PipelineEventRecordedData } from '../src/ingest/classify.js';
import { defineProjection, defineTable, upsert } from '../src/readModels/index.js';

/** The stored type (src/ingest/classify.ts `PIPELINE_EVENT_RECORDED`). */
export const PIPELINE_EVENT_RECORDED = 'PipelineEventRecorded.v1';

export interface PipelineEventRow extends Record<string, unknown> {
  eventId: string;
  position: number;
  source: string | null;
  type: string | null;
  subject: string | null;
  correlationId: string | null;
  /** The CloudEvent's own `time`, when it had one. */
  time: string | null;
  stream: string;
  recordedAt: string;
}

export const pipelineEventsTable = defineTable<PipelineEventRow>({
  name: 'pipeline_events',
  columns: {
    eventId: 'TEXT',
    position: 'INTEGER',
    source: 'TEXT',
    type: 'TEXT',
    subject: 'TEXT',
    correlationId: 'TEXT',
    time: 'TEXT',
    stream: 'TEXT',
    recordedAt: 'TEXT',
  },
  primaryKey: ['eventId'],
  indexes: [
    ['position'],
    ['source', 'position'],
    ['type', 'position'],
    ['subject', 'position'],
    ['correlationId', 'position'],
  ],
});

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function toRow(event: RecordedEvent): PipelineEventRow {
  const cloudEvent = (event.data as Partial<PipelineEventRecordedData> | null)?.cloudEvent;
  const context = event.metadata.context ?? {};
  return {
    eventId: event.id,
    position: Number(event.position),
    source: text(cloudEvent?.source) ?? text(context.source),
    type: text(cloudEvent?.type) ?? text(context.type),
    subject: text(cloudEvent?.subject) ?? text(context.subject),
    correlationId: text(event.metadata.correlationId),
    time: text(cloudEvent?.time) ?? text(context.time),
    stream: event.stream,
    recordedAt: event.recordedAt,
  };
}

export const pipelineEvents = defineProjection({
  name: 'pipelineEvents',
  version: 1,
  tables: [pipelineEventsTable],
  canHandle: [PIPELINE_EVENT_RECORDED],
  handle: (events) => events.map((event) => upsert(pipelineEventsTable, toRow(event))),
});
