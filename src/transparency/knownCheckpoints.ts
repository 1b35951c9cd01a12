// The checkpoints `log verify` checks the walk against: every signed copy it can
// find (witness copies given on the command line, the tree store's, the log's
// `CheckpointSigned` events, and with witness keys the trees the log's
// cosignatures vouch for), each opened with the note key that signs its size.
// Two copies of one size with different roots are a split view.
import type { CheckpointSignedData } from '../domain/events.js';
import type { EventStore } from '../eventStore/types.js';
import { isProvenantError } from '../errors.js';
import type { KeyChain } from './keyRotation.js';
import type { Checkpoint } from './note.js';
import type { TreeStore } from './port.js';
import { checkCosignatures } from './verifyCosigned.js';
import type { CosignerKey } from './witness/cosignature.js';

export type KnownCheckpoint = Checkpoint & { source: string };

/** A problem found among the checkpoints themselves. */
export interface CheckpointProblem {
  kind: 'checkpoint-invalid' | 'cosignature-invalid' | 'witness-quorum' | 'split-view';
  position?: bigint;
  message: string;
}

export interface KnownCheckpoints {
  checkpoints: KnownCheckpoint[];
  /** The same, by tree size. */
  bySize: Map<number, KnownCheckpoint[]>;
  /** Witness cosignatures that verified (with witness keys only). */
  cosignaturesChecked?: number;
}

const PAGE = 250;

export async function knownCheckpoints(
  options: {
    eventStore: EventStore;
    tree?: TreeStore | undefined;
    witnesses?: readonly { source: string; note: string }[] | undefined;
    witnessKeys?: readonly CosignerKey[] | undefined;
    witnessQuorum?: number | undefined;
  },
  chain: KeyChain,
  report: (problem: CheckpointProblem) => void,
): Promise<KnownCheckpoints> {
  const { eventStore, tree } = options;
  const checkpoints: KnownCheckpoint[] = [];
  const addNote = (note: string, source: string, position?: bigint): void => {
    try {
      checkpoints.push({ ...chain.openCheckpoint(note), source });
    } catch (error) {
      report({
        kind: 'checkpoint-invalid',
        ...(position === undefined ? {} : { position }),
        message: `${source}: ${isProvenantError(error) ? `${error.code}: ${error.message}` : String(error)}`,
      });
    }
  };
  for (const w of options.witnesses ?? []) addNote(w.note, w.source);
  for (const c of (await tree?.checkpoints()) ?? [])
    addNote(c.note, `tree store checkpoint ${c.size}`);
  for (let from: bigint | 'start' = 'start'; ;) {
    const page = await eventStore.readAll({
      from,
      maxCount: PAGE,
      filter: { eventTypePrefix: ['CheckpointSigned.'] },
    });
    for (const event of page) {
      const data = event.data as Partial<CheckpointSignedData>;
      addNote(
        typeof data.note === 'string' ? data.note : '',
        `CheckpointSigned at position ${event.position}`,
        event.position,
      );
    }
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) break;
    from = last.position;
  }
  let cosignaturesChecked: number | undefined;
  if (options.witnessKeys !== undefined && options.witnessKeys.length > 0) {
    const cosigned = await checkCosignatures({ ...options, signed: checkpoints });
    for (const p of cosigned.problems) report({ kind: 'cosignature-invalid', ...p });
    checkpoints.push(...cosigned.checkpoints);
    cosignaturesChecked = cosigned.checked;
  }
  const bySize = new Map<number, KnownCheckpoint[]>();
  for (const c of checkpoints) bySize.set(c.size, [...(bySize.get(c.size) ?? []), c]);
  for (const [size, list] of bySize) {
    const roots = new Set(list.map((c) => c.root.toString('base64')));
    if (roots.size > 1)
      report({
        kind: 'split-view',
        message: `Two checkpoints of size ${size} have different roots: ${list.map((c) => `${c.source} (${c.root.toString('base64')})`).join(', ')}`,
      });
  }
  return {
    checkpoints,
    bySize,
    ...(cosignaturesChecked === undefined ? {} : { cosignaturesChecked }),
  };
}
