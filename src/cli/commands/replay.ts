// `provenant replay <unitKey>`: a unit's history as a readable timeline — when,
// what, which producer, the verdict changes (gate or stage, before → after, and
// what triggered them), revocations and why, attestations and exports — read from the log directly (no
// read models), up to `--as-of` (an RFC 3339 time or a position) when given.
import { Command } from 'commander';
import { parseLogPoint } from '../../application/queries/timeTravel.js';
import { unitHistory, type HistoryEntry } from '../../application/queries/unitHistory.js';
import { openEventStore } from '../../composition.js';
import { loadConfig } from '../../config.js';
import { isProvenantError } from '../../errors.js';
import { count, envHelp, exitCodesHelp } from '../shared.js';

interface ReplayOptions {
  asOf?: string;
  json?: boolean;
}

/** One line of the timeline. */
export function formatEntry(entry: HistoryEntry): string {
  const head = `${entry.recordedAt}  @${entry.position.padEnd(6)} ${entry.type.padEnd(20)}`;
  if (entry.revocation !== undefined) {
    const by =
      entry.revocation.revokedBy === undefined ? '' : ` (by ${entry.revocation.revokedBy})`;
    return `${head} receipt ${entry.revocation.receiptId} [${entry.action ?? '?'}] revoked${by}: ${entry.revocation.reason}`;
  }
  if (entry.verdict !== undefined) {
    const what =
      entry.verdict.gateId !== undefined
        ? `gate ${entry.verdict.gateId}`
        : `stage ${entry.verdict.stageId ?? '?'}`;
    const trigger = entry.verdict.trigger;
    const why =
      trigger.kind === 'evaluation' ? 'evaluation' : `${trigger.kind} ${trigger.receiptId}`;
    return `${head} ${what}: ${entry.verdict.before} -> ${entry.verdict.after} (${why})`;
  }
  if (entry.attestation !== undefined) {
    const { attestationId, kind, stage, receipts, signer, trigger } = entry.attestation;
    const what =
      stage === undefined
        ? kind
        : `${kind} of stage ${stage.stageId} (${stage.passed ? 'passed' : 'not passed'})`;
    const why =
      trigger.kind === 'stage-passed'
        ? `issued on StagePassed ${trigger.eventId}`
        : `requested${trigger.requestedBy === undefined ? '' : ` by ${trigger.requestedBy}`}`;
    return `${head} attestation ${attestationId}: ${what}, ${receipts} receipt(s), signed by ${signer}, ${why}`;
  }
  if (entry.export !== undefined) {
    const by = entry.export.exportedBy === undefined ? '' : ` by ${entry.export.exportedBy}`;
    return `${head} exported${by}: ${count(entry.export.files, 'file')}, manifest sha256 ${entry.export.manifestDigest}`;
  }
  if (entry.receiptId !== undefined) {
    const outcome = entry.passed === undefined ? '' : entry.passed ? ' passed' : ' failed';
    const from = entry.producer === undefined ? '' : ` from ${entry.producer}`;
    return `${head} receipt ${entry.receiptId} [${entry.action ?? '?'}]${outcome}${from}`;
  }
  return head.trimEnd();
}

export async function replayUnit(unitKey: string, options: ReplayOptions): Promise<number> {
  const { store } = await openEventStore(loadConfig());
  try {
    const asOf =
      options.asOf === undefined
        ? undefined
        : parseLogPoint(options.asOf, '--as-of', 'QUERY_BAD_AS_OF');
    const history = await unitHistory(store, unitKey, asOf, '--as-of');
    if (options.json) console.log(JSON.stringify(history));
    else {
      console.log(
        `${history.unit}: ${count(history.entries.length, 'event')}${options.asOf === undefined ? '' : ` as of ${options.asOf}`}`,
      );
      for (const entry of history.entries) console.log(formatEntry(entry));
    }
    return 0;
  } catch (error) {
    if (isProvenantError(error) && error.code === 'DOMAIN_UNIT_NOT_FOUND') {
      console.error(`provenant: ${error.code}: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await store.close();
  }
}

export function replayCommand(): Command {
  return new Command('replay')
    .summary("A unit's history as a timeline, from the log")
    .description(
      `Prints a unit's history from the log: time, position, event, producer, each
verdict change (gate or stage, before -> after, and its trigger), revocations and
why, each attestation issued (kind, stage, signer, why) and each export. With --as-of, only what had happened by then (an RFC 3339 time or a log
position). Reads the log directly; read models are not needed.`,
    )
    .argument('<unitKey>', 'unit key: name/version/release/platform/packageType, or a purl')
    .option('--as-of <point>', 'an RFC 3339 time or a log position')
    .option('--json', 'print { unit, entries } as JSON')
    .addHelpText(
      'after',
      `
${exitCodesHelp([
  [0, 'the timeline was printed'],
  [1, 'the unit has no events (by --as-of)'],
  [2, 'usage or configuration error, a malformed key or --as-of, an --as-of in the future'],
])}

${envHelp()}
`,
    )
    .action(async (unitKey: string, options: ReplayOptions) => {
      process.exitCode = await replayUnit(unitKey, options);
    });
}
