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
// - With a quorum (`--witness-quorum N`), the checkpoints checked must each be
//   cosigned by at least N of the given witnesses (distinct key names): each
//   --checkpoint copy by the lines it carries; without copies, the log's latest
//   checkpoint by the `CheckpointCosigned` events recorded for its size and root
//   (a log without a checkpoint falls short). Falling short is a
//   `witness-quorum` problem (`log verify` exits 3 on it).
import type { CheckpointCosignedData } from '../domain/events.js';
import type { EventStore } from '../eventStore/types.js';
import { isProvenantError } from '../errors.js';
import { checkpointText, splitNote, type Checkpoint } from './note.js';
import { verifyCosignatures, type CosignerKey } from './witness/cosignature.js';

export interface CosignatureProblem {
  /** `cosignature-invalid` unless said. */
  kind?: 'witness-quorum';
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

/** The problem of a checkpoint cosigned by `names` (distinct witnesses), when fewer than `quorum`. */
function shortOfQuorum(
  source: string,
  names: ReadonlySet<string>,
  quorum: number | undefined,
): CosignatureProblem[] {
  if (quorum === undefined || names.size >= quorum) return [];
  const by = names.size === 0 ? '' : ` (${[...names].join(', ')})`;
  return [
    {
      kind: 'witness-quorum',
      message: `TLOG_WITNESS_QUORUM: ${source} is cosigned by ${names.size} of the given witnesses${by}, fewer than the quorum of ${quorum}`,
    },
  ];
}

export async function checkCosignatures(options: {
  eventStore: EventStore;
  witnessKeys?: readonly CosignerKey[] | undefined;
  witnesses?: readonly { source: string; note: string }[] | undefined;
  /** How many of the witnesses (distinct key names) must cosign each checkpoint checked. */
  witnessQuorum?: number | undefined;
  /** The checkpoints found in the log and its store: the latest is checked for the quorum when no witness copy is given. */
  signed?: readonly Checkpoint[];
}): Promise<CosignedCheck> {
  const { witnessKeys: keys = [], witnessQuorum: quorum, witnesses = [] } = options;
  const result: CosignedCheck = { checkpoints: [], checked: 0, problems: [] };
  for (const w of witnesses) {
    let text: string;
    try {
      text = splitNote(w.note).text;
    } catch {
      continue; // a malformed note is reported as checkpoint-invalid
    }
    let names = new Set<string>();
    try {
      const found = verifyCosignatures(text, w.note.slice(text.length + 1), keys);
      result.checked += found.length;
      names = new Set(found.map((c) => c.witness));
    } catch (error) {
      // Under a quorum, carrying no cosignature by the witnesses is falling short of it.
      if (quorum === undefined || !isProvenantError(error) || error.code !== 'TLOG_UNKNOWN_KEY') {
        result.problems.push({
          message: `${w.source} is not cosigned by the witness: ${why(error)}`,
        });
        continue;
      }
    }
    result.problems.push(...shortOfQuorum(w.source, names, quorum));
  }
  const latest = (options.signed ?? []).reduce<Checkpoint | undefined>(
    (a, c) => (a === undefined || c.size > a.size ? c : a),
    undefined,
  );
  /** Witnesses whose cosignature of the latest checkpoint the log records. */
  const latestBy = new Set<string>();
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
        const [c] = verifyCosignatures(checkpointText(checkpoint), String(data.cosignature), keys);
        result.checked++;
        if (
          c !== undefined &&
          checkpoint.size === latest?.size &&
          checkpoint.root.equals(latest.root)
        )
          latestBy.add(c.witness);
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
  if (witnesses.length === 0)
    result.problems.push(
      ...shortOfQuorum(
        latest === undefined
          ? 'the log, which has no checkpoint yet,'
          : `the latest checkpoint (size ${latest.size})`,
        latestBy,
        quorum,
      ),
    );
  return result;
}
