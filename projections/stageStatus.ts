// Stage status: whether every stage has passed for every unit, as of its latest verdict.
import { EventTypes, type StageVerdictData } from '../src/domain/events.js';
import { defineProjection, defineTable, upsert } from '../src/readModels/index.js';

export interface StageStatusRow extends Record<string, unknown> {
  unit: string;
  stageId: string;
  passed: boolean;
  stageVersion: number;
  position: number;
  recordedAt: string;
}

export const stageStatusTable = defineTable<StageStatusRow>({
  name: 'stage_status',
  columns: {
    unit: 'TEXT',
    stageId: 'TEXT',
    passed: 'BOOLEAN',
    stageVersion: 'INTEGER',
    position: 'INTEGER',
    recordedAt: 'TEXT',
  },
  primaryKey: ['unit', 'stageId'],
  indexes: [['stageId', 'passed']],
});

export const stageStatus = defineProjection({
  name: 'stageStatus',
  version: 1,
  tables: [stageStatusTable],
  canHandle: [EventTypes.StagePassed, EventTypes.StageReopened],
  handle: (events) =>
    events.map((event) => {
      const data = event.data as StageVerdictData;
      return upsert(stageStatusTable, {
        unit: data.unit,
        stageId: data.stageId,
        passed: data.passed,
        stageVersion: data.stageVersion,
        position: Number(event.position),
        recordedAt: event.recordedAt,
      });
    }),
});
