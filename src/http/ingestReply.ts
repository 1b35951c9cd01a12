// Shapes ingest outcomes into replies: 201 when appended, 200 for a redelivery,
// and a batch report with counts and one entry per element (its outcome, or its
// error as problem details).
import type { BatchItem, IngestOutcome } from '../application/index.js';
import { toProblem, type Problem } from './problem.js';

/** One element of a batch report: the CloudEvent's index, and its outcome or its problem. */
export type BatchItemReport =
  | {
      readonly index: number;
      readonly ok: true;
      /** 201 when appended, 200 for a redelivery, 202 when waiting for its chain. */
      readonly status: 200 | 201 | 202;
      /** The CloudEvent's `id` and `source`. */
      readonly id?: string;
      readonly source?: string;
      readonly result: IngestOutcome;
    }
  | {
      readonly index: number;
      readonly ok: false;
      /** The status the problem would have had as a single request. */
      readonly status: number;
      /** The rejected CloudEvent's `id` and `source`, when it had them. */
      readonly id?: string;
      readonly source?: string;
      readonly problem: Problem;
    };

/** The whole answer to a batch: counts, then one report per element in request order. */
export interface BatchReport {
  readonly mode: 'batch';
  readonly total: number;
  /** Appended now. */
  readonly accepted: number;
  /** Already stored (redeliveries): nothing appended. */
  readonly duplicates: number;
  /** Rejected: nothing appended for them. */
  readonly rejected: number;
  readonly results: readonly BatchItemReport[];
}

/**
 * 201 when the event was appended, 200 when it was a redelivery, 202 when it waits
 * for its CDEvents chain to name a unit (docs/chains.md), delivered again or not.
 */
export const statusOf = (outcome: IngestOutcome): 200 | 201 | 202 =>
  outcome.kind === 'chain-pending' ? 202 : outcome.duplicate ? 200 : 201;

function itemReport(item: BatchItem): BatchItemReport {
  const identity = {
    index: item.index,
    ...(item.id === undefined ? {} : { id: item.id }),
    ...(item.source === undefined ? {} : { source: item.source }),
  };
  return item.ok
    ? { ...identity, ok: true, status: statusOf(item.outcome), result: item.outcome }
    : { ...identity, ok: false, status: item.error.status, problem: toProblem(item.error) };
}

/** The report of a batch: each item, and how many were accepted, duplicates or rejected. */
export function batchReport(items: readonly BatchItem[]): BatchReport {
  const results = items.map(itemReport);
  let accepted = 0;
  let duplicates = 0;
  for (const r of results)
    if (r.ok) {
      if (r.result.duplicate) duplicates++;
      else accepted++;
    }
  return {
    mode: 'batch',
    total: results.length,
    accepted,
    duplicates,
    rejected: results.length - accepted - duplicates,
    results,
  };
}
