// Unit summary: one row per unit — the current stage (the last stage passed,
// by position, that has not been reopened since), its last activity and stream
// revision, the gates whose latest verdict is not `passed`, and how many
// receipts were recorded for it — plus one row per distinct artifact of the
// unit in its own table (so a receipt costs one small row, not a rewrite of the
// unit's artifact list). The handler folds each unit's events of the batch onto
// the unit's committed row.
import type { ArtifactRef } from '../src/domain/receiptInput.js';
import {
  EventTypes,
  type GateVerdict,
  type GateVerdictData,
  type ReceiptRecordedData,
  type StageVerdictData,
} from '../src/domain/events.js';
import type { RecordedEvent } from '../src/eventStore/types.js';
import { defineProjection, defineTable, upsert } from '../src/readModels/index.js';
import type { ReadModelChange, ReadModelReader } from '../src/readModels/index.js';

export interface UnitArtifact {
  name?: string;
  uri?: string;
  digest: Record<string, string>;
}

/**
 * One artifact of a unit (deduplicated on name, uri and digest). The key is all
 * there is: name, uri and digest are read back from it, so a receipt writes one
 * small key per artifact (a table of keys only, stored once by the SQLite adapter).
 */
export interface UnitArtifactRow extends Record<string, unknown> {
  unit: string;
  /** Canonical JSON of `[name, uri, digest entries sorted]`: the dedup key and listing order. */
  artifact: string;
}

export const unitArtifactsTable = defineTable<UnitArtifactRow>({
  name: 'unit_artifacts',
  columns: { unit: 'TEXT', artifact: 'TEXT' },
  primaryKey: ['unit', 'artifact'],
});

type ArtifactKey = [name: string | null, uri: string | null, digest: [string, string][]];

/** A stored artifact row as the API shows it (its digest entries sorted by algorithm). */
export function artifactView(row: UnitArtifactRow): UnitArtifact {
  const [name, uri, digest] = JSON.parse(row.artifact) as ArtifactKey;
  return {
    ...(name === null ? {} : { name }),
    ...(uri === null ? {} : { uri }),
    digest: Object.fromEntries(digest),
  };
}

export interface UnitSummaryRow extends Record<string, unknown> {
  unit: string;
  currentStage: string | null;
  lastPosition: number;
  lastRecordedAt: string;
  /** Gate ids whose latest verdict is not `passed`, sorted. */
  openGates: string[];
  receiptCount: number;
  /** Revision of the unit stream's last event applied. */
  revision: number;
  /** Latest verdict per gate id (what `openGates` is computed from). */
  gateVerdicts: Record<string, GateVerdict>;
  /** Position at which each currently passed stage passed (what `currentStage` is computed from). */
  passedStages: Record<string, number>;
  /** The last verdict recorded per gate, as `GET /v1/units/{key}` shows it. */
  recordedGates: Record<string, RecordedGate>;
  /** The last verdict recorded per stage, as `GET /v1/units/{key}` shows it. */
  recordedStages: Record<string, RecordedStage>;
}

export interface RecordedGate {
  verdict: GateVerdict;
  gateVersion: number;
  receiptIds: string[];
}

export interface RecordedStage {
  passed: boolean;
  stageVersion: number;
  receiptIds: string[];
}

export const unitSummaryTable = defineTable<UnitSummaryRow>({
  name: 'unit_summary',
  columns: {
    unit: 'TEXT',
    currentStage: 'TEXT',
    lastPosition: 'INTEGER',
    lastRecordedAt: 'TEXT',
    openGates: 'JSON',
    receiptCount: 'INTEGER',
    revision: 'INTEGER',
    gateVerdicts: 'JSON',
    passedStages: 'JSON',
    recordedGates: 'JSON',
    recordedStages: 'JSON',
  },
  primaryKey: ['unit'],
  indexes: [['currentStage'], ['lastPosition']],
});

const artifactKey = (a: UnitArtifact): string =>
  JSON.stringify([
    a.name ?? null,
    a.uri ?? null,
    Object.entries(a.digest).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
  ] satisfies ArtifactKey);

const artifactRow = (unit: string, a: ArtifactRef): UnitArtifactRow => ({
  unit,
  artifact: artifactKey(a),
});

const empty = (unit: string): UnitSummaryRow => ({
  unit,
  currentStage: null,
  lastPosition: 0,
  lastRecordedAt: '',
  openGates: [],
  receiptCount: 0,
  revision: 0,
  gateVerdicts: {},
  passedStages: {},
  recordedGates: {},
  recordedStages: {},
});

/** Folds one event onto a unit's summary. */
export function evolveSummary(row: UnitSummaryRow, event: RecordedEvent): UnitSummaryRow {
  // A parked event retried later is older than the row: last activity stays the latest.
  const activity =
    Number(event.position) > row.lastPosition
      ? {
          lastPosition: Number(event.position),
          lastRecordedAt: event.recordedAt,
          revision: event.revision,
        }
      : undefined;
  const next: UnitSummaryRow = { ...row, ...activity };
  switch (event.type) {
    case EventTypes.ReceiptRecorded:
      next.receiptCount = row.receiptCount + 1;
      return next;
    case EventTypes.GatePassed:
    case EventTypes.GateFailed:
    case EventTypes.GateReopened: {
      const data = event.data as GateVerdictData;
      const gateVerdicts = { ...row.gateVerdicts, [data.gateId]: data.verdict };
      const openGates = Object.keys(gateVerdicts)
        .filter((id) => gateVerdicts[id] !== 'passed')
        .sort();
      const recorded: RecordedGate = {
        verdict: data.verdict,
        gateVersion: data.gateVersion,
        receiptIds: data.receiptIds,
      };
      const recordedGates = { ...row.recordedGates, [data.gateId]: recorded };
      return Object.assign(next, { gateVerdicts, openGates, recordedGates });
    }
    case EventTypes.StagePassed:
    case EventTypes.StageReopened: {
      const data = event.data as StageVerdictData;
      const passedStages = { ...row.passedStages };
      if (data.passed) passedStages[data.stageId] = Number(event.position);
      else delete passedStages[data.stageId];
      let currentStage: string | null = null;
      let at = -1;
      for (const [stageId, position] of Object.entries(passedStages))
        if (position > at) [currentStage, at] = [stageId, position];
      const recorded: RecordedStage = {
        passed: data.passed,
        stageVersion: data.stageVersion,
        receiptIds: data.receiptIds,
      };
      const recordedStages = { ...row.recordedStages, [data.stageId]: recorded };
      return Object.assign(next, { passedStages, currentStage, recordedStages });
    }
    default:
      return next;
  }
}

async function handle(
  events: readonly RecordedEvent[],
  ctx: ReadModelReader,
): Promise<ReadModelChange[]> {
  const byUnit = new Map<string, RecordedEvent[]>();
  for (const event of events) {
    const unit = (event.data as { unit?: unknown }).unit;
    if (typeof unit !== 'string') throw new Error(`${event.type} ${event.id} names no unit`);
    const unitEvents = byUnit.get(unit);
    if (unitEvents === undefined) byUnit.set(unit, [event]);
    else unitEvents.push(event);
  }
  const changes: ReadModelChange[] = [];
  for (const event of events)
    if (event.type === EventTypes.ReceiptRecorded) {
      const data = event.data as ReceiptRecordedData;
      for (const artifact of data.artifacts ?? [])
        changes.push(upsert(unitArtifactsTable, artifactRow(data.unit, artifact)));
    }
  for (const [unit, unitEvents] of byUnit) {
    const current = (await ctx.get(unitSummaryTable, { unit })) ?? empty(unit);
    changes.push(upsert(unitSummaryTable, unitEvents.reduce(evolveSummary, current)));
  }
  return changes;
}

export const unitSummary = defineProjection({
  name: 'unitSummary',
  version: 3,
  tables: [unitSummaryTable, unitArtifactsTable],
  canHandle: [
    EventTypes.ReceiptRecorded,
    EventTypes.ReceiptRevoked,
    EventTypes.GatePassed,
    EventTypes.GateFailed,
    EventTypes.GateReopened,
    EventTypes.StagePassed,
    EventTypes.StageReopened,
  ],
  handle,
});
