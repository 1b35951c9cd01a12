// The Merkle log checks of `provenant verify` (docs/transparency.md, "In
// attestations"): the receipts an attestation relies on are leaves of the log
// under a signed checkpoint. A source names that checkpoint and each receipt's
// leaf index (the checkpoint the attestation recorded when issued, as a store or
// an export holds its record) and serves each leaf's proof and stored event. The
// checkpoint is opened with the trusted note key (`--log-key`) or, for want of
// one, the key the source serves (trust on first use, said so); each leaf is
// recomputed from the whole stored event and its proof checked against the
// signed root; and the source's latest checkpoint (a store's current one, an
// export's own) must extend the attestation's (a consistency proof), so that a
// log rewritten since is caught. When the source knows the log's note key
// rotations, a checkpoint signed by a key the trusted key endorses through them
// (or that endorses it: the current key vouches for its predecessors) verifies
// too, and the report says so.
import { EventTypes, type ReceiptRecordedData } from '../../domain/events.js';
import type { ErrorCode } from '../../errors.js';
import type { RecordedEvent } from '../../eventStore/types.js';
import { receiptDigest } from '../../provenance/index.js';
import { verifyConsistency } from '../../transparency/merkle.js';
import { keyChain, type RecordedRotation } from '../../transparency/keyRotation.js';
import { openCheckpoint, parseVerifierKey, type NoteVerifier } from '../../transparency/note.js';
import { eventInclusionFailure } from '../../transparency/treeBuilder.js';

/** The signed checkpoint a source checks receipts under, and each receipt's leaf index. */
export interface LogAnchor {
  /** The checkpoint: a C2SP signed note. */
  checkpoint: string;
  /** Leaf index by receipt id; receipts newer than the checkpoint are absent. */
  leaves: ReadonlyMap<string, number>;
}

/** The attestation as the log checks look it up. */
export interface AttestationRef {
  /** The unit it is about, when known (a store finds its record by it). */
  unit?: string;
  /** Hex SHA-256 of the signed statement (AttestationIssued.statementDigest). */
  statementDigest: string;
  receiptIds: readonly string[];
}

/** Where the Merkle log is read: a store's API or an export. A thrown error is "could not ask". */
export interface LogSource {
  /** How the report names it: "the store", "the export". */
  readonly name: string;
  /** The attestation's anchor, or why the source records none for it. */
  anchor(attestation: AttestationRef): Promise<LogAnchor | string>;
  /** The note verifier key the source serves; undefined when it holds no Merkle log. */
  verifierKey(): Promise<string | undefined>;
  /** The proof (base64 hashes) of leaf `leafIndex` under `treeSize` and the event stored there, or why there is none. */
  inclusion(
    leafIndex: number,
    treeSize: number,
  ): Promise<{ proof: readonly unknown[]; event: RecordedEvent } | string>;
  /** The log's note key rotations (LogKeyRotated.v1 data), oldest first; absent: the source has none to give. */
  keyRotations?(): Promise<RecordedRotation[]>;
  /** The latest signed checkpoint (a store's current one, an export's own) and a consistency proof to it from `from` leaves. */
  latestConsistency?(from: number): Promise<{ checkpoint: string; proof: readonly string[] }>;
}

export interface LogVerification {
  source: LogSource;
  /**
   * The note verifier key the caller trusts (`--log-key`) and where it came from.
   * Given, a missing checkpoint makes the report could-not-check; without it the
   * source's own key is used and an attestation without a checkpoint is a note.
   * `demanded: false` (a server checking its own log): a missing checkpoint stays a note.
   */
  trustedKey?: { key: string; from: string; demanded?: boolean };
}

/** Where the checks report. */
export interface CheckSink {
  pass(name: string, message: string): void;
  fail(name: string, code: ErrorCode, message: string): void;
  couldNotCheck(name: string, code: ErrorCode, message: string): void;
  note(message: string): void;
}

const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Why `event` is not receipt `receiptId` with `digest`; undefined when it is. */
function notTheReceipt(
  event: RecordedEvent,
  receipt: { receiptId: string; digest?: string },
): string | undefined {
  if (event.type !== EventTypes.ReceiptRecorded) return `it holds a ${event.type} event`;
  const data = event.data as ReceiptRecordedData;
  if (data.receiptId !== receipt.receiptId) return `it holds receipt ${data.receiptId}`;
  const digest = receiptDigest(data);
  if (receipt.digest !== undefined && digest !== receipt.digest)
    return `its receipt has digest ${digest}, the attestation says ${receipt.digest}`;
  return undefined;
}

/** Runs the log checks for an attestation relying on `receipts` (checks named log-*). */
export async function checkLogInclusions(
  verification: LogVerification,
  attestation: Omit<AttestationRef, 'receiptIds'>,
  receipts: readonly { receiptId: string; digest?: string }[],
  out: CheckSink,
): Promise<void> {
  const { source, trustedKey } = verification;
  const unreachable = (name: string, error: unknown): void =>
    out.couldNotCheck(
      name,
      'VERIFY_STORE_UNREACHABLE',
      `${source.name} could not be asked: ${errorText(error)}`,
    );
  /** Nothing to check: could-not-check when the caller asked for it with a key, else a note. */
  const notChecked = (code: ErrorCode, why: string): void => {
    if (trustedKey !== undefined && trustedKey.demanded !== false)
      out.couldNotCheck('log-checkpoint', code, `${why}; --log-key asks for the log to be checked`);
    else out.note(`${why}: inclusion in the Merkle log not checked`);
  };

  // 1. The checkpoint, opened with the trusted key or the source's own.
  let anchor: LogAnchor | string;
  try {
    anchor = await source.anchor({ ...attestation, receiptIds: receipts.map((r) => r.receiptId) });
  } catch (error) {
    unreachable('log-checkpoint', error);
    return;
  }
  if (typeof anchor === 'string') {
    notChecked('VERIFY_LOG_NOT_RECORDED', anchor);
    return;
  }
  let verifier: NoteVerifier;
  let keyFrom: string;
  if (trustedKey !== undefined) {
    verifier = parseVerifierKey(trustedKey.key); // checked by the caller: bad input, not a finding
    keyFrom = trustedKey.from;
  } else {
    let served;
    try {
      served = await source.verifierKey();
    } catch (error) {
      unreachable('log-checkpoint', error);
      return;
    }
    if (served === undefined) {
      notChecked('VERIFY_LOG_UNAVAILABLE', `${source.name} serves no Merkle log key`);
      return;
    }
    try {
      verifier = parseVerifierKey(served);
    } catch (error) {
      out.couldNotCheck(
        'log-checkpoint',
        'VERIFY_LOG_UNAVAILABLE',
        `the log key ${source.name} serves is unusable: ${errorText(error)}`,
      );
      return;
    }
    keyFrom = `served by ${source.name} being checked (trust on first use: give --log-key to check against a key you hold)`;
    out.note(`the log key was taken from ${source.name} being checked, not from --log-key`);
  }
  let rotations: RecordedRotation[];
  try {
    rotations = (await source.keyRotations?.()) ?? [];
  } catch (error) {
    unreachable('log-checkpoint', error);
    return;
  }
  const chain = keyChain([verifier], rotations);
  /** Opens a checkpoint with the trusted key, or the key the rotations lead to for its size. */
  const open = (note: string) => {
    try {
      return { checkpoint: openCheckpoint(note, [verifier]), rotated: false };
    } catch (direct) {
      if (rotations.length === 0) throw direct;
      try {
        return { checkpoint: chain.openCheckpoint(note), rotated: true };
      } catch (error) {
        const why = chain.problems.map((p) => p.message).join('; ');
        throw new Error(`${errorText(error)}${why === '' ? '' : ` (key rotations: ${why})`}`, {
          cause: error,
        });
      }
    }
  };
  let checkpoint;
  let rotated;
  try {
    ({ checkpoint, rotated } = open(anchor.checkpoint));
  } catch (error) {
    out.fail(
      'log-checkpoint',
      'VERIFY_LOG_CHECKPOINT_INVALID',
      `the checkpoint does not verify with key ${verifier.name}: ${errorText(error)}`,
    );
    return;
  }
  out.pass(
    'log-checkpoint',
    `checkpoint of ${checkpoint.size} leaves (${checkpoint.origin}), key ${keyFrom}${rotated ? `, followed through the log's note key rotations as ${source.name} gives them (each endorsed by the key before it)` : ''}`,
  );

  // 2. Each receipt's leaf: the receipt's event, included under the checkpoint.
  const problems: { code: ErrorCode; message: string }[] = [];
  const included: number[] = [];
  const newer: string[] = [];
  for (const receipt of receipts) {
    const leafIndex = anchor.leaves.get(receipt.receiptId);
    if (leafIndex === undefined) {
      newer.push(receipt.receiptId);
      continue;
    }
    const what = `receipt ${receipt.receiptId} (leaf ${leafIndex})`;
    let found;
    try {
      found = await source.inclusion(leafIndex, checkpoint.size);
    } catch (error) {
      unreachable('log-inclusion', error);
      return;
    }
    if (typeof found === 'string') {
      problems.push({ code: 'VERIFY_LOG_NOT_INCLUDED', message: `${what}: ${found}` });
      continue;
    }
    const wrong = notTheReceipt(found.event, receipt);
    const failure = eventInclusionFailure(found.event, leafIndex, found.proof, checkpoint);
    if (wrong !== undefined)
      problems.push({ code: 'VERIFY_LOG_WRONG_LEAF', message: `${what}: ${wrong}` });
    else if (failure !== undefined)
      problems.push({
        code: 'VERIFY_LOG_NOT_INCLUDED',
        message: `${what} is not included under the checkpoint: ${failure}`,
      });
    else included.push(leafIndex);
  }
  if (problems.length > 0) {
    const first = problems[0] as { code: ErrorCode };
    out.fail('log-inclusion', first.code, problems.map((p) => p.message).join('; '));
  } else if (included.length > 0)
    out.pass(
      'log-inclusion',
      `${included.length} receipt(s) included under the checkpoint (leaves ${included.join(', ')})`,
    );
  if (newer.length > 0)
    out.note(
      `receipt(s) ${newer.join(', ')} not yet under the checkpoint (newer than it): their inclusion is not checked`,
    );

  // 3. The source's latest checkpoint extends the attestation's.
  if (source.latestConsistency === undefined) return;
  let latest;
  try {
    latest = await source.latestConsistency(checkpoint.size);
  } catch (error) {
    unreachable('log-consistency', error);
    return;
  }
  let now;
  try {
    now = open(latest.checkpoint).checkpoint;
  } catch (error) {
    out.fail(
      'log-consistency',
      'VERIFY_LOG_CHECKPOINT_INVALID',
      `the latest checkpoint of ${source.name} does not verify: ${errorText(error)}`,
    );
    return;
  }
  const failure =
    now.origin !== checkpoint.origin
      ? `it names log ${now.origin}, not ${checkpoint.origin}`
      : verifyConsistency(
          checkpoint.size,
          now.size,
          latest.proof.map((h) => Buffer.from(h, 'base64')),
          checkpoint.root,
          now.root,
        );
  if (failure === undefined)
    out.pass(
      'log-consistency',
      `the latest checkpoint of ${source.name} (${now.size} leaves) extends the attestation's (${checkpoint.size})`,
    );
  else
    out.fail(
      'log-consistency',
      'VERIFY_LOG_INCONSISTENT',
      `the latest checkpoint of ${source.name} (${now.size} leaves) does not extend the attestation's (${checkpoint.size}): ${failure}; the log was rewritten or truncated since`,
    );
}
