// `provenant log verify --witness-key`: witness cosignatures
// (https://c2sp.org/tlog-cosignature) checked with keys the auditor trusts.
//
// - Each witness copy given with --checkpoint must carry a cosignature by one
//   of the keys, and it must verify: a checkpoint the witness vouched for.
// - Each `CheckpointCosigned.v1` in the log by one of the keys is checked
//   against the checkpoint text it names (origin, size, root), and its tree
//   joins the checkpoints the walk recomputes: a log rewritten under a
//   checkpoint a witness cosigned shows as a root mismatch or a split view.
//   Cosignatures by other keys are skipped.
import type { CheckpointCosignedData } from '../domain/events.js';
import type { EventStore } from '../eventStore/types.js';
import { isProvenantError } from '../errors.js';
import { checkpointText, splitNote, type Checkpoint } from './note.js';
import { verifyCosignatures, type CosignerKey } from './witness/cosignature.js';

export interface CosignatureProblem {
  position?: bigint;
  message: string;
}

export interface CosignedCheck {
  /** The trees the cosignatures in the log vouch for, with where each was found. */
  checkpoints: (Checkpoint & { source: string })[];
  /** Cosignatures that verified. */
  checked: number;
  problems: CosignatureProblem[];
}

const PAGE = 250;
const why = (error: unknown): string =>
  isProvenantError(error) ? `${error.code}: ${error.message}` : String(error);

export async function checkCosignatures(options: {
  eventStore: EventStore;
  keys: readonly CosignerKey[];
  witnesses: readonly { source: string; note: string }[];
}): Promise<CosignedCheck> {
  const { keys } = options;
  const result: CosignedCheck = { checkpoints: [], checked: 0, problems: [] };
  for (const w of options.witnesses) {
    let text: string;
    try {
      text = splitNote(w.note).text;
    } catch {
      continue; // a malformed note is reported as checkpoint-invalid
    }
    try {
      result.checked += verifyCosignatures(text, w.note.slice(text.length + 1), keys).length;
    } catch (error) {
      result.problems.push({
        message: `${w.source} is not cosigned by the witness: ${why(error)}`,
      });
    }
  }
  for (let from: bigint | 'start' = 'start'; ;) {
    const page = await options.eventStore.readAll({
      from,
      maxCount: PAGE,
      filter: { eventTypePrefix: ['CheckpointCosigned.'] },
    });
    for (const event of page) {
      const data = event.data as Partial<CheckpointCosignedData>;
      const source = `CheckpointCosigned at position ${event.position}`;
      try {
        const checkpoint = {
          origin: String(data.origin),
          size: Number(data.treeSize),
          root: Buffer.from(String(data.rootHash), 'base64'),
        };
        verifyCosignatures(checkpointText(checkpoint), String(data.cosignature), keys);
        result.checked++;
        result.checkpoints.push({ ...checkpoint, source: `${source} (${String(data.witness)})` });
      } catch (error) {
        if (isProvenantError(error) && error.code === 'TLOG_UNKNOWN_KEY') continue;
        result.problems.push({ position: event.position, message: `${source}: ${why(error)}` });
      }
    }
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) break;
    from = last.position;
  }
  return result;
}
