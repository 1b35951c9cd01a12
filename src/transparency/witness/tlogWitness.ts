// A client of the C2SP tlog-witness protocol (https://c2sp.org/tlog-witness),
// PROVENANT_CHECKPOINT_WITNESS_PROTOCOL=tlog-witness: each signed checkpoint is
// sent to `<submission prefix>/add-checkpoint` as
//
//   old <the size the witness last cosigned>\n
//   <base64 consistency proof hash>\n      (from that size to the checkpoint's; none from 0)
//   \n
//   <the checkpoint note>
//
// and the answer is read back: 200 with cosignature lines (each verified
// against the configured witness keys, cosignature.ts, then recorded), 409 with
// the witness's size (text/x.tlog.size: adopt it and try once more with a proof
// from it), 404 (origin unknown), 403 (log key not trusted), 422 (the proof
// does not verify: the log does not extend what the witness saw), 400. The size
// the witness holds is kept in memory; a fresh client (a restart, a new leader)
// first recovers it from the log (the last `CheckpointCosigned` by the
// witness's keys, `recoverSize`), and only when that is stale or missing learns
// it from a 409. Retries, timeouts and superseding are delivery.ts's.
import { AnswerTooLarge, boundedText } from '../../boundedAnswer.js';
import { isProvenantError } from '../../errors.js';
import { consistencyProof, type NodeReader } from '../merkle.js';
import { readCheckpointUnverified, splitNote } from '../note.js';
import { witnessName } from './config.js';
import { verifyCosignatures, type CosignerKey, type Cosignature } from './cosignature.js';
import {
  createDelivery,
  type AttemptOutcome,
  type DeliveryBounds,
  type WitnessPoster,
} from './delivery.js';

/** A checkpoint with the cosignatures a witness gave it, verified. */
export interface CosignedCheckpoint {
  origin: string;
  treeSize: number;
  /** Base64 of the root hash. */
  rootHash: string;
  cosignatures: Cosignature[];
}

export interface TlogWitnessOptions extends DeliveryBounds {
  /** The witness's submission prefix; requests go to `<url>/add-checkpoint`. */
  url: string;
  /** The witness's cosignature/v1 verifier keys: its answer must carry a valid cosignature by one. */
  keys: readonly CosignerKey[];
  /** The tree the checkpoints sign: consistency proofs are read from it. */
  readNodes: NodeReader;
  /**
   * The size of the last checkpoint of `origin` this witness cosigned as the log
   * records it (0: none); read once, before the first request. Without it, or
   * when it fails, the client starts from 0 and resyncs on the witness's 409.
   */
  recoverSize?(origin: string): Promise<number>;
  /** Records verified cosignatures (appends them to the log); a failure fails the delivery. */
  record(cosigned: CosignedCheckpoint): Promise<void>;
}

/** The most of an answer read: cosignature lines are about 130 bytes each. */
const MAX_ANSWER = 64 * 1024;

const fail = (error: string, retry = false): AttemptOutcome => ({ ok: false, error, retry });

export function createTlogWitnessClient(options: TlogWitnessOptions): WitnessPoster {
  const endpoint = `${options.url.replace(/\/+$/, '')}/add-checkpoint`;
  /** The size of the latest checkpoint the witness cosigned, as far as this client knows. */
  let witnessSize = 0;
  let recovered = false;
  const recover = async (origin: string): Promise<void> => {
    if (recovered || options.recoverSize === undefined) return;
    recovered = true;
    try {
      witnessSize = await options.recoverSize(origin);
    } catch (error) {
      options.log?.('warn', 'the witness size could not be read from the log', {
        witness: witnessName(options.url),
        error: String(error),
      });
    }
  };

  const proofFrom = async (old: number, size: number): Promise<Buffer[]> =>
    old === 0 || old === size ? [] : consistencyProof(old, size, options.readNodes);

  const addCheckpoint = async (
    note: string,
    treeSize: number,
    timeoutMs: number,
  ): Promise<AttemptOutcome> => {
    const { text } = splitNote(note);
    const checkpoint = readCheckpointUnverified(note);
    await recover(checkpoint.origin);
    for (let resynced = false; ; resynced = true) {
      const old = witnessSize;
      if (old > treeSize)
        return fail(
          `the witness has cosigned a larger tree (${old}) than this checkpoint (${treeSize})`,
        );
      const proof = await proofFrom(old, treeSize);
      const body = `old ${old}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${note}`;
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      let answer: string;
      try {
        answer = await boundedText(response, MAX_ANSWER);
      } catch (error) {
        if (!(error instanceof AnswerTooLarge)) throw error;
        return fail(`answered ${response.status} with more than ${MAX_ANSWER} bytes`, true);
      }
      const status = response.status;
      if (status === 200) {
        let cosignatures: Cosignature[];
        try {
          cosignatures = verifyCosignatures(text, answer, options.keys);
        } catch (error) {
          const why = isProvenantError(error) ? `${error.code}: ${error.message}` : String(error);
          return fail(`the witness's cosignature was refused: ${why}`);
        }
        witnessSize = treeSize;
        try {
          await options.record({
            origin: checkpoint.origin,
            treeSize,
            rootHash: checkpoint.root.toString('base64'),
            cosignatures,
          });
        } catch (error) {
          return fail(`the cosignature could not be recorded: ${String(error)}`);
        }
        return { ok: true };
      }
      if (status === 409) {
        const type = response.headers.get('content-type') ?? '';
        const reported = /^(0|[1-9][0-9]{0,15})\n?$/.exec(answer)?.[1];
        if (!type.startsWith('text/x.tlog.size') || reported === undefined)
          return fail(`answered 409 without a tree size (${type})`);
        const size = Number(reported);
        if (size === old)
          return fail(
            `answered 409 at size ${size}: the witness holds another root for that size (a split view)`,
          );
        witnessSize = size; // adopt it: the next request proves consistency from there
        if (resynced)
          return fail(
            `answered 409 again: the witness moved from ${old} to ${size} meanwhile`,
            true,
          );
        continue;
      }
      if (status === 404)
        return fail(`answered 404: the witness does not know the origin ${checkpoint.origin}`);
      if (status === 403)
        return fail('answered 403: the witness does not trust the key that signed the checkpoint');
      if (status === 422)
        return fail(
          `answered 422: the witness refused the consistency proof from ${old} to ${treeSize} (the log does not extend the tree the witness cosigned)`,
        );
      if (status === 400) return fail(`answered 400: ${answer.slice(0, 200).trim()}`);
      return fail(`answered ${status}`, status >= 500 || status === 408 || status === 429);
    }
  };

  return createDelivery({
    ...options,
    failureMessage: 'checkpoint witness cosigning failed',
    attempt: addCheckpoint,
  });
}
