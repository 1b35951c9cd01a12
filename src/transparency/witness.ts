// The witness copy posted to a URL (docs/transparency.md, "Checkpoints"): each
// signed checkpoint note is POSTed as text/plain to a service outside the store,
// so that a truncated or rewritten log cannot hide behind its own checkpoints.
// One post at a time, each bounded by a timeout and retried with backoff; a
// newer checkpoint supersedes one not yet delivered (it carries the older one's
// tree, and consistency proofs connect them). Failures are logged and counted,
// never thrown: the follower never waits on the witness.
export interface WitnessStats {
  /** Checkpoints the witness accepted (a 2xx answer). */
  posted: number;
  /** Checkpoints given up on after every retry. */
  failed: number;
  /** Checkpoints dropped for a newer one before they were delivered. */
  superseded: number;
}

export interface WitnessPoster {
  /** Hands over a signed checkpoint note to post; returns at once. */
  offer(note: string, treeSize: number): void;
  /** Resolves when nothing is in flight (shutdown, tests). */
  drain(): Promise<void>;
  stats(): WitnessStats;
}

export interface WitnessPosterOptions {
  url: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Attempts per checkpoint, the first included. */
  attempts?: number;
  /** Wait before the second attempt; doubled before each next one. */
  backoffMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: object) => void;
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

export function createWitnessPoster(options: WitnessPosterOptions): WitnessPoster {
  const { url, timeoutMs = 5000, attempts = 4, backoffMs = 500 } = options;
  const stats: WitnessStats = { posted: 0, failed: 0, superseded: 0 };
  let pending: { note: string; treeSize: number } | undefined;
  let loop: Promise<void> | undefined;

  const post = async (note: string): Promise<string | undefined> => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: note,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.ok ? undefined : `answered ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return cause ?? (error instanceof Error ? error.message : String(error));
    }
  };

  const deliver = async (): Promise<void> => {
    while (pending !== undefined) {
      const { note, treeSize } = pending;
      pending = undefined;
      let failure: string | undefined;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        failure = await post(note);
        if (failure === undefined || attempt === attempts || pending !== undefined) break;
        await sleep(backoffMs * 2 ** (attempt - 1));
        if (pending !== undefined) break; // a newer checkpoint arrived while waiting
      }
      if (failure === undefined) stats.posted++;
      else if (pending !== undefined) stats.superseded++;
      else {
        stats.failed++;
        options.log?.('warn', 'checkpoint witness post failed', { url, treeSize, error: failure });
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
