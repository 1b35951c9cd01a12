// `GET /v1/units/{key}` from the read models (issue 13 §4): the unit's receipts
// from the receipts ledger and its recorded gate and stage verdicts from the unit
// summary, evaluated under the current definitions by the same code as the fold
// (views.ts `unitStatusFrom`), so both answer the same for the same position.
// The current verdicts are evaluated on read rather than stored: they depend on
// the definitions, and storing them would make every definition change rewrite
// every unit's row. Served only when the read models have applied the log up to
// the position the caller needs; otherwise the caller folds the stream.
import { receipts, unitSummaryTable, type ReceiptRow } from '../../../../projections/index.js';
import type { Definitions } from '../../../domain/definitions.js';
import type { EvaluatedReceipt } from '../../../domain/evaluation.js';
import { normalizeUnitKey } from '../../../domain/unitKey.js';
import { ProvenantError } from '../../../errors.js';
import type { ReadModelStore } from '../../../readModels/port.js';
import type { ReceiptView, UnitStatus } from '../../types.js';
import { receiptViewOf, unitStatusFrom } from '../views.js';
import { positionOf, type ProjectionName } from './position.js';

/** The read models the answer comes from. */
const SOURCES: readonly ProjectionName[] = ['unitSummary', 'receiptsLedger'];

/** A ledger row as the receipt view. */
const receiptView = (row: ReceiptRow, counted: boolean): ReceiptView =>
  receiptViewOf(row.data, {
    eventId: row.eventId,
    position: String(row.position),
    recordedAt: row.recordedAt,
    revoked: row.revoked
      ? {
          reason: row.revokedReason ?? '',
          ...(row.revokedBy === null ? {} : { revokedBy: row.revokedBy }),
        }
      : undefined,
    counted,
  });

/**
 * The unit's status from the read models when they reflect at least `position`;
 * undefined when they lag behind it (fold the stream instead). The checkpoints,
 * the summary and the ledger rows are read in one snapshot, so they agree.
 * `definitions` is given `position`: the definitions of at least that point.
 */
export async function unitStatusFromReadModels(
  readModels: ReadModelStore,
  unitKey: string,
  position: bigint,
  definitions: (position: bigint) => Promise<Definitions>,
): Promise<UnitStatus | undefined> {
  const unit = normalizeUnitKey(unitKey);
  const read = await readModels.read(async (snapshot) => {
    if ((await positionOf(snapshot, SOURCES)) < position) return undefined;
    const summary = await snapshot.get(unitSummaryTable, { unit });
    if (summary === undefined) return { summary };
    const { rows } = await snapshot.find(receipts, { unit }, { orderBy: ['position'] });
    return { summary, rows };
  });
  if (read === undefined) return undefined;
  const { summary, rows = [] } = read;
  if (summary === undefined)
    throw new ProvenantError('DOMAIN_UNIT_NOT_FOUND', `Unit '${unit}' has no receipts`, {
      details: { unit },
    });
  // The latest non-revoked receipt of each action counts (domain/evaluation.ts).
  const counted = new Map<string, EvaluatedReceipt>();
  for (const row of rows)
    if (!row.revoked)
      counted.set(row.action, {
        receiptId: row.receiptId,
        action: row.action,
        multipass: row.multipass,
        revoked: false,
      });
  const countedIds = new Set<string>();
  for (const receipt of counted.values()) countedIds.add(receipt.receiptId);
  return unitStatusFrom(
    {
      unit,
      revision: summary.revision,
      receipts: rows.map((row) => receiptView(row, countedIds.has(row.receiptId))),
      counted,
      gateVerdicts: new Map(Object.entries(summary.recordedGates)),
      stageVerdicts: new Map(Object.entries(summary.recordedStages)),
    },
    await definitions(position),
  );
}
