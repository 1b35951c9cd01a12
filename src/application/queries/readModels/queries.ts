// The query API over read models (DESIGN.md §5, issue 13): units by name,
// version, current stage, gate verdict or last activity; a unit's receipts; one
// receipt; the units of a gate or a stage; the trail of a correlation id. Each
// answer carries the position it reflects (the lowest checkpoint of the read
// models it read), and waits, bounded, for a `minPosition` first.
import {
  artifactView,
  gateStatusTable,
  pipelineEventsTable,
  receipts,
  stageStatusTable,
  unitArtifactsTable,
  unitSummaryTable,
  type ReceiptRow,
  type UnitSummaryRow,
} from '../../../../projections/index.js';
import type { GateVerdict } from '../../../domain/events.js';
import { normalizeUnitKey } from '../../../domain/unitKey.js';
import { unitNameParts, unitsOfPurl } from '../../../domain/purl.js';
import { ProvenantError } from '../../../errors.js';
import type { EventStore } from '../../../eventStore/types.js';
import type { DefinitionQueries } from '../../types.js';
import type { ReadModelStore, Where } from '../../../readModels/port.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { awaitPosition, type PositionOptions, type ProjectionName } from './position.js';
import { scan, type Page } from './scan.js';
import {
  gateUnitView,
  pipelineView,
  receiptDetailView,
  receiptView,
  stageUnitView,
  unitView,
  type GateUnitView,
  type LedgerReceiptView,
  type ReceiptDetailView,
  type StageUnitView,
  type TraceItem,
  type UnitSummaryView,
} from './listViews.js';

export interface ReadModelQueryDeps extends PositionOptions {
  readModels: ReadModelStore;
  eventStore: EventStore;
  /**
   * Tells a gate or stage that is not defined (DOMAIN_GATE_NOT_FOUND,
   * DOMAIN_STAGE_NOT_FOUND) from one no unit has a verdict of yet; without it,
   * both answer an empty page.
   */
  definitions?: Pick<DefinitionQueries, 'getGate' | 'getStage'>;
}

/** Paging and consistency of every list query. */
export interface PageRequest {
  limit: number;
  cursor?: string;
  minPosition?: bigint;
}

/** An answer, with the log position it reflects. */
export type Answer<T> = T & { position: bigint };

/** When a unit counts as updated since: a time (RFC 3339) or a position (exclusive). */
export type Since = { time: string } | { position: bigint };

export interface UnitFilter {
  name?: string;
  /** Package type (purl type; an NVRPP's packageType). */
  type?: string;
  /** A purl: with a version, that unit; without one, every version of the package. */
  purl?: string;
  version?: string;
  /** Current stage. */
  stage?: string;
  /** A unit with a gate in this verdict (that gate only, with `gate`). */
  gateStatus?: GateVerdict;
  gate?: string;
  updatedSince?: Since;
}

export interface ReceiptFilter {
  action?: string;
  producer?: string;
  revoked?: boolean;
}

/** Traces longer than this are cut (the rest is in the log, by correlation id). */
const MAX_TRACE = 10_000;

export function createReadModelQueries(deps: ReadModelQueryDeps) {
  const { readModels } = deps;
  const at = (names: readonly ProjectionName[], minPosition: bigint | undefined) =>
    awaitPosition(deps, names, minPosition, deps);

  const matchesUnit = (filter: UnitFilter) => {
    const since = filter.updatedSince;
    const sinceTime = since !== undefined && 'time' in since ? new Date(since.time) : undefined;
    const wanted = filter.purl === undefined ? undefined : unitsOfPurl(filter.purl);
    return (row: UnitSummaryRow): boolean => {
      if (wanted !== undefined && !wanted(row.unit)) return false;
      if (filter.name !== undefined || filter.version !== undefined || filter.type !== undefined) {
        const key = unitNameParts(row.unit);
        if (key === undefined) return false;
        if (filter.name !== undefined && key.name !== filter.name) return false;
        if (filter.version !== undefined && key.version !== filter.version) return false;
        if (filter.type !== undefined && key.type !== filter.type) return false;
      }
      if (filter.stage !== undefined && row.currentStage !== filter.stage) return false;
      if (
        filter.gateStatus !== undefined &&
        filter.gate === undefined &&
        !Object.values(row.gateVerdicts).includes(filter.gateStatus)
      )
        return false;
      if (since !== undefined) {
        if ('position' in since) {
          if (BigInt(row.lastPosition) <= since.position) return false;
        } else if (sinceTime !== undefined && new Date(row.lastRecordedAt) < sinceTime)
          return false;
      }
      return true;
    };
  };

  /** A unit summary with its artifacts (their own rows, in key order). */
  const withArtifacts = async (row: UnitSummaryRow): Promise<UnitSummaryView> => {
    const { rows } = await readModels.find(unitArtifactsTable, { unit: row.unit });
    return unitView(row, rows.map(artifactView));
  };

  return {
    /** `GET /v1/units`: unit summaries in key order, filtered. */
    async listUnits(filter: UnitFilter, page: PageRequest): Promise<Answer<Page<UnitSummaryView>>> {
      if (filter.gate !== undefined && filter.gateStatus === undefined)
        throw new ProvenantError('HTTP_BAD_REQUEST', '`gate` goes with `gateStatus`');
      const matches = matchesUnit(filter);
      if (filter.gate !== undefined && filter.gateStatus !== undefined) {
        const position = await at(['gateStatus', 'unitSummary'], page.minPosition);
        const result = await scan(readModels, {
          query: 'units-by-gate',
          table: gateStatusTable,
          where: { gateId: filter.gate, verdict: filter.gateStatus },
          limit: page.limit,
          ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
          filtered: true,
          map: async (row) => {
            const summary = await readModels.get(unitSummaryTable, { unit: row.unit });
            return summary !== undefined && matches(summary) ? withArtifacts(summary) : undefined;
          },
        });
        return { ...result, position };
      }
      const position = await at(['unitSummary'], page.minPosition);
      const where: Where<UnitSummaryRow> =
        filter.stage === undefined ? {} : { currentStage: filter.stage };
      const filtered =
        filter.purl !== undefined ||
        filter.type !== undefined ||
        filter.name !== undefined ||
        filter.version !== undefined ||
        filter.gateStatus !== undefined ||
        filter.updatedSince !== undefined;
      const result = await scan(readModels, {
        query: 'units',
        table: unitSummaryTable,
        where,
        limit: page.limit,
        ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
        filtered,
        map: (row) => (matches(row) ? withArtifacts(row) : undefined),
      });
      return { ...result, position };
    },

    /** `GET /v1/units/{key}/receipts`: a unit's receipts in log order. */
    async unitReceipts(
      unitKey: string,
      filter: ReceiptFilter,
      page: PageRequest,
    ): Promise<Answer<Page<LedgerReceiptView>>> {
      const unit = normalizeUnitKey(unitKey);
      const position = await at(['receiptsLedger'], page.minPosition);
      const where: Where<ReceiptRow> = { unit };
      if (filter.action !== undefined) where.action = filter.action;
      if (filter.producer !== undefined) where.producer = filter.producer;
      if (filter.revoked !== undefined) where.revoked = filter.revoked;
      const result = await scan(readModels, {
        query: 'unit-receipts',
        table: receipts,
        where,
        order: { orderBy: ['position'] },
        limit: page.limit,
        ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
        map: receiptView,
      });
      return { ...result, position };
    },

    /** `GET /v1/receipts/{id}`. */
    async getReceipt(
      receiptId: string,
      minPosition?: bigint,
    ): Promise<Answer<{ receipt: ReceiptDetailView }>> {
      const position = await at(['receiptsLedger'], minPosition);
      const row = await readModels.get(receipts, { receiptId });
      if (row === undefined)
        throw new ProvenantError(
          'QUERY_RECEIPT_NOT_FOUND',
          `no receipt '${receiptId}' in the ledger (as of position ${position})`,
          { details: { receiptId, position: position.toString() } },
        );
      return { receipt: receiptDetailView(row), position };
    },

    /** `GET /v1/gates/{id}/units`: the latest verdict of a gate per unit, in key order. */
    async gateUnits(
      gateId: string,
      status: GateVerdict | undefined,
      page: PageRequest,
    ): Promise<Answer<Page<GateUnitView>>> {
      const position = await at(['gateStatus'], page.minPosition);
      const result = await scan(readModels, {
        query: 'gate-units',
        table: gateStatusTable,
        where: status === undefined ? { gateId } : { gateId, verdict: status },
        limit: page.limit,
        ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
        map: gateUnitView,
      });
      if (result.items.length === 0 && result.next === null && page.cursor === undefined)
        await deps.definitions?.getGate(gateId);
      return { ...result, position };
    },

    /** `GET /v1/stages/{id}/units`: the latest verdict of a stage per unit, in key order. */
    async stageUnits(
      stageId: string,
      passed: boolean | undefined,
      page: PageRequest,
    ): Promise<Answer<Page<StageUnitView>>> {
      const position = await at(['stageStatus'], page.minPosition);
      const result = await scan(readModels, {
        query: 'stage-units',
        table: stageStatusTable,
        where: passed === undefined ? { stageId } : { stageId, passed },
        limit: page.limit,
        ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
        map: stageUnitView,
      });
      if (result.items.length === 0 && result.next === null && page.cursor === undefined)
        await deps.definitions?.getStage(stageId);
      return { ...result, position };
    },

    /** `GET /v1/traces/{correlationId}`: its receipts and pipeline events, in log order. */
    async trace(correlationId: string, page: PageRequest): Promise<Answer<Page<TraceItem>>> {
      const position = await at(['receiptsLedger', 'pipelineEvents'], page.minPosition);
      let after = -1;
      if (page.cursor !== undefined) {
        const inner = decodeCursor('trace', page.cursor);
        if (!/^[0-9]{1,16}$/.test(inner))
          throw new ProvenantError('QUERY_BAD_CURSOR', 'the cursor is not valid for trace');
        after = Number(inner);
      }
      const [ledger, pipeline] = await Promise.all([
        readModels.find(receipts, { correlationId }, { orderBy: ['position'], limit: MAX_TRACE }),
        readModels.find(
          pipelineEventsTable,
          { correlationId },
          { orderBy: ['position'], limit: MAX_TRACE },
        ),
      ]);
      const all: TraceItem[] = [
        ...ledger.rows.map((row): TraceItem => ({ kind: 'receipt', ...receiptView(row) })),
        ...pipeline.rows.map(pipelineView),
      ]
        .filter((item) => Number(item.position) > after)
        .sort((a, b) => Number(a.position) - Number(b.position));
      const items = all.slice(0, page.limit);
      const last = items.at(-1);
      return {
        items,
        next:
          all.length > page.limit && last !== undefined
            ? encodeCursor('trace', last.position)
            : null,
        position,
      };
    },
  };
}

export type ReadModelQueries = ReturnType<typeof createReadModelQueries>;
