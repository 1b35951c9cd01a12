// `provenant log verify`: re-walks the whole log in `$all` order and reports
// every problem it finds with its position:
//
// - each event's content digest and its stream's hash chain (DESIGN.md §3);
// - each event's leaf (the whole stored record) against the leaf the Merkle log
//   projection stored for it: the first divergence names the first edited,
//   deleted, inserted or reordered event, metadata and recorded time included;
// - the recomputed root at every signed checkpoint's size (checkpoints in the
//   log, in the tree store and the witness copy, each signature checked:
//   knownCheckpoints.ts);
// - checkpoints beyond the end of the log (a truncated tail), and two
//   checkpoints of one size with different roots (a split view);
// - note key rotations (keyRotation.ts): each checkpoint is checked with the key
//   that signs its size, followed from the trusted keys through the rotations;
// - with witness keys, witness cosignatures and their quorum (verifyCosigned.ts).
import { canonicalize } from '../encoding/canonicalJson.js';
import { ZERO_DIGEST, contentDigestOfCanonical, eventDigest } from '../eventStore/integrity.js';
import type {
  EventContext,
  EventStore,
  RecordedEvent,
  RecordedMetadata,
  StoredEvent,
} from '../eventStore/types.js';
import { CompactRange } from './compactRange.js';
import { keyChain, readRotations } from './keyRotation.js';
import { knownCheckpoints } from './knownCheckpoints.js';
import type { NoteVerifier } from './note.js';
import type { CosignerKey } from './witness/cosignature.js';
import type { LeafRecord, TreeStore } from './port.js';
import { leafHash } from './merkle.js';
import { withIntegrityFields } from './storedMetadata.js';
import { leafTextOf, leafTextWith } from './treeBuilder.js';

export type LogProblemKind =
  | 'content-digest-mismatch'
  | 'chain-broken'
  | 'revision-gap'
  | 'unreadable'
  | 'leaf-mismatch'
  | 'leaves-missing'
  | 'checkpoint-invalid'
  | 'checkpoint-root-mismatch'
  | 'checkpoint-beyond-log'
  | 'split-view'
  | 'cosignature-invalid'
  | 'witness-quorum'
  | 'key-rotation-invalid';

export interface LogProblem {
  kind: LogProblemKind;
  /** `$all` position of the event the problem is at (or the first one it may be at). */
  position?: bigint;
  stream?: string;
  revision?: number;
  eventId?: string;
  /** Events of the log before this one (its leaf index), for problems found by the walk. */
  leafIndex?: number;
  message: string;
}

export interface LogVerifyReport {
  ok: boolean;
  events: number;
  treeSize: number;
  /** Base64 root hash of the recomputed tree. */
  root: string;
  /** Signed copies of checkpoints checked against the walk (the tree store's, the log's, witness copies). */
  checkpointsChecked: number;
  /** Distinct checkpoints (tree sizes) among them. */
  checkpointSizesChecked: number;
  /** Note key rotations followed (those that verify and continue the chain). */
  keyRotations: number;
  /** Witness cosignatures that verified (with witness keys only). */
  cosignaturesChecked?: number;
  problems: LogProblem[];
}

export interface VerifyLogOptions {
  eventStore: EventStore;
  /** The Merkle log projection's store, when at hand. */
  tree?: TreeStore;
  /** Keys whose checkpoints are trusted (and, through the log's key rotations, their successors and predecessors). */
  verifiers: readonly NoteVerifier[];
  /** Signed checkpoint notes from outside the store (witness copies). */
  witnesses?: readonly { source: string; note: string }[];
  /** Witness cosignature keys: witness copies must be cosigned, cosignatures in the log verify. */
  witnessKeys?: readonly CosignerKey[];
  /** With witness keys: how many witnesses must cosign the checkpoints checked (verifyCosigned.ts). */
  witnessQuorum?: number | undefined;
  onProgress?: (events: number, headPosition: bigint) => void;
  /** Stop collecting after this many problems (default 100). */
  maxProblems?: number;
}

const PAGE = 250;

export async function verifyLog(options: VerifyLogOptions): Promise<LogVerifyReport> {
  const { eventStore, tree, verifiers } = options;
  const maxProblems = options.maxProblems ?? 100;
  const problems: LogProblem[] = [];
  const report = (problem: LogProblem): void => {
    if (problems.length < maxProblems) problems.push(problem);
  };
  const head = await eventStore.headPosition();

  // 1. Every checkpoint that can be found, its signature checked with the key of its size.
  const rotations = await readRotations(eventStore);
  const chain = keyChain(verifiers, rotations);
  for (const p of chain.problems) report({ kind: 'key-rotation-invalid', ...p });
  const { checkpoints, bySize, cosignaturesChecked } = await knownCheckpoints(
    options,
    chain,
    report,
  );

  // 2. The walk: digests, chains, leaves, roots at checkpoint sizes.
  const heads = new Map<string, StreamHead>();
  const range = new CompactRange();
  let diverged = false;
  let lastPosition: bigint | undefined;
  let checkpointsChecked = 0;
  let checkpointSizesChecked = 0;
  let storedLeaves: LeafRecord[] = [];
  for (let from: bigint | 'start' = 'start'; ;) {
    const page = await readStoredPage(eventStore, from);
    if (tree !== undefined && !diverged) storedLeaves = await tree.leaves(range.size, page.length);
    for (let i = 0; i < page.length; i++) {
      const event = page[i] as StoredEvent;
      const walked = checkEvent(event, heads, report, range.size);
      const stored = storedLeaves[i];
      const leaf = leafOf(event, walked, diverged ? undefined : stored);
      if (tree !== undefined && !diverged) {
        if (stored === undefined) {
          // The tree has not reached this event yet: nothing to compare from here on.
          diverged = true;
        } else if (stored.position !== event.position || !stored.hash.equals(leaf)) {
          diverged = true;
          report({
            kind: 'leaf-mismatch',
            leafIndex: range.size,
            position: event.position < stored.position ? event.position : stored.position,
            stream: event.stream,
            revision: event.revision,
            eventId: event.id,
            message:
              stored.position !== event.position
                ? `Leaf ${range.size} was the event at position ${stored.position} (${stored.eventId}); the log now has position ${event.position} (${event.id}) there: events deleted, inserted or reordered`
                : `The event at position ${event.position} (${event.stream}@${event.revision}) differs from the one the Merkle log recorded (data, metadata or recorded time edited)`,
          });
        }
      }
      range.append(leaf);
      lastPosition = event.position;
      if (bySize.has(range.size)) checkpointSizesChecked++;
      for (const c of bySize.get(range.size) ?? []) {
        checkpointsChecked++;
        if (!c.root.equals(range.root()))
          report({
            kind: 'checkpoint-root-mismatch',
            position: event.position,
            message: `The log's first ${range.size} events (up to position ${event.position}) do not hash to the root signed by ${c.source}: an event at or before position ${event.position} was changed, removed, added or moved`,
          });
      }
    }
    options.onProgress?.(range.size, head);
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) break;
    from = last.position;
    await new Promise((resolve) => setImmediate(resolve));
  }

  // 3. What lies beyond the end of the log.
  if (tree !== undefined && !diverged) {
    const { size } = await tree.state();
    if (size > range.size) {
      const missing = await tree.leafAt(range.size);
      report({
        kind: 'leaves-missing',
        ...(missing === undefined ? {} : { position: missing.position }),
        message: `The Merkle log holds ${size} leaves but the log has ${range.size} events: the events from position ${missing?.position ?? '?'} on are gone (tail truncated or events deleted)`,
      });
    }
  }
  for (const c of checkpoints)
    if (c.size > range.size) {
      const missing = await tree?.leafAt(range.size);
      // The first missing event's position when the tree store knows it, else the last one left.
      const position = missing?.position ?? lastPosition;
      report({
        kind: 'checkpoint-beyond-log',
        ...(position === undefined ? {} : { position }),
        message: `${c.source} signs ${c.size} events but the log has ${range.size}${lastPosition === undefined ? '' : ` (last position ${lastPosition})`}: events after it were truncated or deleted`,
      });
    }
  return {
    ok: problems.length === 0,
    events: range.size,
    treeSize: range.size,
    root: range.root().toString('base64'),
    checkpointsChecked,
    checkpointSizesChecked,
    keyRotations: rotations.length - chain.problems.length,
    ...(cosignaturesChecked === undefined ? {} : { cosignaturesChecked }),
    problems,
  };
}

/** The last event of a stream the walk has seen. */
interface StreamHead {
  revision: number;
  /** Its chain link, which the stream's next event carries as `prevDigest`. */
  digest: string;
}

/** A page of `$all` as stored; from a backend that serves only parsed events, re-serialised. */
const readStoredPage = (store: EventStore, from: bigint | 'start'): Promise<StoredEvent[]> =>
  store.readAllStored?.({ from, maxCount: PAGE }) ??
  store.readAll({ from, maxCount: PAGE }).then((events) => events.map(asStored));

const asStored = (event: RecordedEvent): StoredEvent => {
  const { contentDigest, prevDigest, ...metadata } = event.metadata;
  return {
    id: event.id,
    type: event.type,
    stream: event.stream,
    revision: event.revision,
    position: event.position,
    recordedAt: event.recordedAt,
    dataJson: canonicalize(event.data),
    metadataJson: JSON.stringify(metadata),
    contentDigest,
    prevDigest,
  };
};

/**
 * Content digest and stream chain of one stored event; resynchronises after a
 * problem. Returns its data in canonical form and its stored metadata fields.
 *
 * The data is hashed as stored: the store keeps it in the canonical form the
 * content digest covers, so when the stored text hashes to the stored digest it
 * is the very text the digest was computed over at append, and serves as the
 * canonical data for the leaf too, without being parsed. Only when it does not
 * match is the data parsed and canonicalised, and the digest recomputed from
 * that (a row whose digest an attacker recomputed over non-canonical text still
 * differs from its leaf).
 */
function checkEvent(
  event: StoredEvent,
  heads: Map<string, StreamHead>,
  report: (p: LogProblem) => void,
  leafIndex: number,
): Walked {
  let metadata: Record<string, unknown> = {};
  try {
    metadata = parseObject(event.metadataJson);
  } catch (error) {
    report({
      ...where(event, leafIndex),
      kind: 'unreadable',
      message: `Metadata cannot be parsed: ${String(error)}`,
    });
  }
  const context = metadata['context'] as EventContext | undefined;
  let canonicalData = event.dataJson;
  if (contentDigestOfCanonical(event.type, canonicalData, context) !== event.contentDigest) {
    try {
      canonicalData = canonicalize(JSON.parse(event.dataJson));
      if (contentDigestOfCanonical(event.type, canonicalData, context) !== event.contentDigest)
        report({
          ...where(event, leafIndex),
          kind: 'content-digest-mismatch',
          message: `Content of ${event.stream}@${event.revision} does not match its digest`,
        });
    } catch (error) {
      report({
        ...where(event, leafIndex),
        kind: 'unreadable',
        message: `Cannot be canonicalised: ${String(error)}`,
      });
    }
  }
  const head = heads.get(event.stream);
  const expected = head === undefined ? 0 : head.revision + 1;
  if (event.revision !== expected)
    report({
      ...where(event, leafIndex),
      kind: 'revision-gap',
      message: `Stream ${event.stream} jumps to revision ${event.revision}; expected ${expected}`,
    });
  else if (event.prevDigest !== (head?.digest ?? ZERO_DIGEST))
    report({
      ...where(event, leafIndex),
      kind: 'chain-broken',
      message: `Chain broken at ${event.stream}@${event.revision}: prevDigest does not match the previous event`,
    });
  const digest = eventDigest(event.prevDigest, event.contentDigest);
  if (head === undefined) heads.set(event.stream, { revision: event.revision, digest });
  else {
    head.revision = event.revision;
    head.digest = digest;
  }
  return { canonicalData, fields: metadata };
}

/** What `checkEvent` read of an event: its data in canonical form, its stored metadata fields. */
interface Walked {
  canonicalData: string;
  fields: Record<string, unknown>;
}

/**
 * The event's leaf hash. Its leaf text takes the stored metadata text with the
 * integrity fields spliced in (storedMetadata.ts) when that gives the leaf the
 * Merkle log recorded for it; otherwise (no recorded leaf, an altered row) the
 * metadata is canonicalised.
 */
function leafOf(event: StoredEvent, walked: Walked, recorded: LeafRecord | undefined): Buffer {
  if (recorded !== undefined) {
    const metadata = withIntegrityFields(event.metadataJson, walked.fields, event);
    if (metadata !== undefined) {
      const leaf = leafHash(leafTextWith(event, walked.canonicalData, metadata));
      if (leaf.equals(recorded.hash)) return leaf;
    }
  }
  // The metadata as read back: the stored fields and the integrity columns over them.
  const metadata = {
    ...walked.fields,
    contentDigest: event.contentDigest,
    prevDigest: event.prevDigest,
  } as RecordedMetadata;
  return leafHash(leafTextOf({ ...event, metadata }, walked.canonicalData));
}

/** Where a problem the walk found is. */
const where = (
  event: StoredEvent,
  leafIndex: number,
): Pick<LogProblem, 'leafIndex' | 'position' | 'stream' | 'revision' | 'eventId'> => ({
  leafIndex,
  position: event.position,
  stream: event.stream,
  revision: event.revision,
  eventId: event.id,
});

/** A JSON object (metadata), or a throw. */
function parseObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('not a JSON object');
  return value as Record<string, unknown>;
}
