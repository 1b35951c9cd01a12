// Handing signed checkpoints to a witness outside the store (docs/transparency.md,
// "Checkpoints"), in the background: one delivery at a time, each attempt bounded
// by the protocol's timeout and retried with backoff when it may succeed later; a
// newer checkpoint supersedes one not yet delivered (it carries the older one's
// tree, and consistency proofs connect them). Failures are logged and counted,
// never thrown: the follower never waits on the witness. What one attempt does
// is the protocol's: a plain POST (post.ts) or tlog-witness add-checkpoint
// (tlogWitness.ts).
import { witnessName } from './config.js';

export interface WitnessStats {
  /** Checkpoints the witness accepted (a 2xx answer; with tlog-witness, cosigned, verified and recorded). */
  posted: number;
  /** Checkpoints given up on (after every retry, or at once when retrying cannot help). */
  failed: number;
  /** Checkpoints dropped for a newer one before they were delivered. */
  superseded: number;
}

export interface WitnessPoster {
  /** Hands over a signed checkpoint note to deliver; returns at once. */
  offer(note: string, treeSize: number): void;
  /** Resolves when nothing is in flight (shutdown, tests). */
  drain(): Promise<void>;
  stats(): WitnessStats;
}

export type WitnessLog = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: object,
) => void;

/** Bounds shared by every protocol. */
export interface DeliveryBounds {
  /** Per attempt (default 5 s). */
  timeoutMs?: number;
  /** Attempts per checkpoint, the first included (default 4). */
  attempts?: number;
  /** Wait before the second attempt; doubled before each next one (default 500 ms). */
  backoffMs?: number;
  log?: WitnessLog;
}

/** What one attempt came to: delivered, or why not and whether trying again may help. */
export type AttemptOutcome = { ok: true } | { ok: false; error: string; retry: boolean };

export interface DeliveryOptions extends DeliveryBounds {
  /** Names the witness in log lines. */
  url: string;
  /** One attempt at delivering `note`, bounded by `timeoutMs`. */
  attempt(note: string, treeSize: number, timeoutMs: number): Promise<AttemptOutcome>;
  /** The log line of a checkpoint given up on. */
  failureMessage: string;
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

/** The error text of a failed fetch: the system error code when there is one. */
export function fetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return cause ?? (error instanceof Error ? error.message : String(error));
}

export function createDelivery(options: DeliveryOptions): WitnessPoster {
  const { url, timeoutMs = 5000, attempts = 4, backoffMs = 500 } = options;
  const stats: WitnessStats = { posted: 0, failed: 0, superseded: 0 };
  let pending: { note: string; treeSize: number } | undefined;
  let loop: Promise<void> | undefined;

  const tryOnce = async (note: string, treeSize: number): Promise<AttemptOutcome> => {
    try {
      return await options.attempt(note, treeSize, timeoutMs);
    } catch (error) {
      return { ok: false, error: fetchError(error), retry: true };
    }
  };

  const deliver = async (): Promise<void> => {
    while (pending !== undefined) {
      const { note, treeSize } = pending;
      pending = undefined;
      let outcome: AttemptOutcome = { ok: false, error: 'not attempted', retry: false };
      for (let attempt = 1; attempt <= attempts; attempt++) {
        outcome = await tryOnce(note, treeSize);
        if (outcome.ok || !outcome.retry || attempt === attempts || pending !== undefined) break;
        await sleep(backoffMs * 2 ** (attempt - 1));
        if (pending !== undefined) break; // a newer checkpoint arrived while waiting
      }
      if (outcome.ok) stats.posted++;
      else if (pending !== undefined && outcome.retry) stats.superseded++;
      else {
        stats.failed++;
        options.log?.('warn', options.failureMessage, {
          witness: witnessName(url),
          treeSize,
          // An error may quote the URL it was given: logged by name, like the witness.
          error: outcome.error.replaceAll(url, witnessName(url)),
        });
      }
    }
  };

  const start = (): void => {
    loop ??= deliver().finally(() => {
      loop = undefined;
      if (pending !== undefined) start(); // offered as the last delivery ended
    });
  };

  return {
    offer(note, treeSize) {
      if (pending !== undefined) stats.superseded++;
      pending = { note, treeSize };
      start();
    },
    async drain() {
      while (loop !== undefined) await loop;
    },
    stats: () => ({ ...stats }),
  };
}
