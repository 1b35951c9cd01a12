// Rotating the log's note key (docs/transparency.md, "Rotating the note key").
// A rotation is a C2SP signed note whose text names the log, the size of the
// last checkpoint the previous key signs, and both verifier keys:
//
//   provenant.dev/log-key-rotation/v1\n<origin>\n<size>\n<previous vkey>\n<new vkey>\n
//
// signed by the previous key (it endorses its successor) and by the new key (its
// holder has it). It is appended to the log as `LogKeyRotated.v1`. Checkpoints
// stay plain C2SP; which key signs a checkpoint of size s follows from the
// rotations: the previous key up to the rotation's size, the new key after it.
import { LOG_KEY_STREAM, type LogKeyRotatedData } from '../domain/events.js';
import type { EventStore } from '../eventStore/types.js';
import { ProvenantError, isProvenantError } from '../errors.js';
import {
  openCheckpoint,
  openNote,
  parseVerifierKey,
  readCheckpointUnverified,
  signNote,
  type Checkpoint,
  type NoteSigner,
  type NoteVerifier,
} from './note.js';

export const ROTATION_HEADER = 'provenant.dev/log-key-rotation/v1';

/** The statement text of a rotation (before signing). */
export const rotationText = (r: {
  origin: string;
  treeSize: number;
  previousVerifierKey: string;
  verifierKey: string;
}): string =>
  `${ROTATION_HEADER}\n${r.origin}\n${r.treeSize}\n${r.previousVerifierKey}\n${r.verifierKey}\n`;

/** The `LogKeyRotated.v1` data of a rotation from `previous` to `next` after `treeSize`. */
export function signRotation(options: {
  origin: string;
  treeSize: number;
  previous: NoteSigner;
  next: NoteSigner;
}): LogKeyRotatedData {
  const { origin, treeSize, previous, next } = options;
  if (previous.verifierKey === next.verifierKey)
    throw new ProvenantError('TLOG_BAD_KEY', 'The new note key is the current one');
  const fields = {
    origin,
    treeSize,
    previousVerifierKey: previous.verifierKey,
    verifierKey: next.verifierKey,
  };
  const endorsed = signNote(rotationText(fields), previous);
  // Both signature lines under one text: the previous key's, then the new key's.
  const possession = signNote(rotationText(fields), next);
  const statement = `${endorsed}${possession.slice(possession.lastIndexOf('\n— ') + 1)}`;
  return { ...fields, statement };
}

/**
 * Why a rotation's statement does not stand on its own (malformed, its fields
 * not what it signs, either signature missing or not verifying), or undefined.
 */
export function rotationProblem(data: Partial<LogKeyRotatedData>): string | undefined {
  try {
    if (
      typeof data.statement !== 'string' ||
      typeof data.previousVerifierKey !== 'string' ||
      typeof data.verifierKey !== 'string' ||
      typeof data.origin !== 'string' ||
      typeof data.treeSize !== 'number'
    )
      return 'the event lacks its statement, keys, origin or size';
    const expected = rotationText(data as LogKeyRotatedData);
    const previous = parseVerifierKey(data.previousVerifierKey);
    const next = parseVerifierKey(data.verifierKey);
    if (openNote(data.statement, [previous]) !== expected)
      return 'the statement does not say what the event says';
    try {
      openNote(data.statement, [next]);
    } catch (error) {
      return `the new key ${data.verifierKey} did not sign it (${describe(error)})`;
    }
    return undefined;
  } catch (error) {
    return `the endorsement does not verify with the previous key ${String(data.previousVerifierKey)} (${describe(error)})`;
  }
}

const describe = (error: unknown): string =>
  isProvenantError(error) ? `${error.code}: ${error.message}` : String(error);

/** A rotation as read from the log, with where it is. */
export interface RecordedRotation {
  data: Partial<LogKeyRotatedData>;
  source: string;
  position?: bigint;
}

/** The log's key rotations (the `$log-keys` stream), in order. */
export async function readRotations(eventStore: EventStore): Promise<RecordedRotation[]> {
  const { events } = await eventStore.readStream(LOG_KEY_STREAM);
  return events.map((e) => ({
    data: e.data as Partial<LogKeyRotatedData>,
    source: `LogKeyRotated at position ${e.position}`,
    position: e.position,
  }));
}

/** The span of tree sizes one key signs: `after` < size ≤ `until`. */
interface KeySpan {
  verifierKey: string;
  verifier: NoteVerifier;
  after: number;
  until: number;
}

/** Which keys sign which checkpoint sizes, from trusted keys and the log's rotations. */
export interface KeyChain {
  /** Opens a checkpoint signed by the key that signs its size; TLOG_* errors otherwise. */
  openCheckpoint(note: string): Checkpoint;
  /** The key that signs checkpoints after the last valid rotation (undefined without rotations). */
  readonly current?: string;
  /** Rotations that do not continue the chain from a trusted key, with why. */
  readonly problems: { position?: bigint; message: string }[];
}

/**
 * The chain of note keys: `trusted` verifier keys, followed through `rotations`
 * (in log order). A trusted key that a valid rotation names as its new key
 * vouches for its predecessor too (the statement is signed by both), so the
 * current key alone verifies the whole history. A rotation is followed when its
 * statement verifies with both keys, it names the same log (origin) as the
 * rotations followed before it, and its previous key is the one signing at
 * that point (the first: a trusted key); otherwise it is a problem, and
 * checkpoints signed by its new key stay unknown.
 */
export function keyChain(
  trusted: readonly NoteVerifier[],
  rotations: readonly RecordedRotation[],
): KeyChain {
  const problems: KeyChain['problems'] = [];
  const report = (r: RecordedRotation, message: string): void => {
    problems.push({
      ...(r.position === undefined ? {} : { position: r.position }),
      message: `${r.source}: ${message}`,
    });
  };
  const valid: (RecordedRotation & { data: LogKeyRotatedData })[] = [];
  for (const r of rotations) {
    const problem = rotationProblem(r.data);
    if (problem === undefined) valid.push(r as RecordedRotation & { data: LogKeyRotatedData });
    else report(r, problem);
  }
  // Keys by `<name>+<hex hash>`, which names one key.
  const vouched = new Set(trusted.map(keyId));
  for (const r of [...valid].reverse())
    if (vouched.has(vkeyId(r.data.verifierKey))) vouched.add(vkeyId(r.data.previousVerifierKey));

  const spans: KeySpan[] = [];
  let current: { key: string; after: number } | undefined;
  /** The log the chain is of: the first followed rotation's origin. */
  let origin: string | undefined;
  for (const r of valid) {
    const { previousVerifierKey: previous, verifierKey: next, treeSize } = r.data;
    if (origin !== undefined && r.data.origin !== origin) {
      // A key shared by two logs must not let one log's rotation re-key the other.
      report(r, `rotates the key of the log ${r.data.origin}, not of ${origin}`);
      continue;
    }
    if (current === undefined) {
      if (!vouched.has(vkeyId(previous))) {
        report(r, `its previous key ${previous} is not a trusted key`);
        continue;
      }
      current = { key: previous, after: 0 };
    } else if (previous !== current.key) {
      report(
        r,
        `endorsed by ${previous}, but the key signing since size ${current.after} is ${current.key}`,
      );
      continue;
    } else if (treeSize < current.after) {
      report(
        r,
        `takes effect at size ${treeSize}, before the rotation to its previous key (${current.after})`,
      );
      continue;
    }
    spans.push(span(current.key, current.after, treeSize));
    current = { key: next, after: treeSize };
    origin = r.data.origin;
  }
  if (current !== undefined) spans.push(span(current.key, current.after, Infinity));
  // Trusted keys no rotation names sign any size.
  const inChain = new Set(spans.map((s) => keyId(s.verifier)));
  const free = trusted.filter((v) => !inChain.has(keyId(v)));

  return {
    ...(current === undefined ? {} : { current: current.key }),
    problems,
    openCheckpoint(note) {
      const { size, origin: logOf } = readCheckpointUnverified(note);
      // Another log's checkpoint: its rotations are not this chain's; the trusted keys alone.
      if (origin !== undefined && logOf !== origin) return openCheckpoint(note, trusted);
      const signing = spans.filter((s) => s.after < size && size <= s.until);
      try {
        return openCheckpoint(note, [...signing.map((s) => s.verifier), ...free]);
      } catch (error) {
        if (!isProvenantError(error) || error.code !== 'TLOG_UNKNOWN_KEY') throw error;
        const other = spans.find((s) => verifies(note, s.verifier));
        if (other === undefined) throw error;
        throw new ProvenantError(
          'TLOG_KEY_RETIRED',
          `Checkpoint of size ${size} is signed by ${other.verifierKey}, which signs sizes ${other.after + 1} to ${other.until === Infinity ? '∞' : other.until} only (key rotations)`,
        );
      }
    },
  };
}

const keyId = (v: NoteVerifier): string => `${v.name}+${v.keyHash.toString('hex')}`;
/** The id of a verifier key already checked to parse (rotationProblem). */
const vkeyId = (vkey: string): string => keyId(parseVerifierKey(vkey));

const span = (verifierKey: string, after: number, until: number): KeySpan => ({
  verifierKey,
  verifier: parseVerifierKey(verifierKey),
  after,
  until,
});

const verifies = (note: string, verifier: NoteVerifier): boolean => {
  try {
    openNote(note, [verifier]);
    return true;
  } catch {
    return false;
  }
};
