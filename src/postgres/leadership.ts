// One leader among any number of processes, on PostgreSQL (DESIGN.md §9): each
// candidate opens a dedicated connection and tries a session-level advisory
// lock every `pollMs`; the one that holds it leads, the others stand by.
//
// The leader is handed that connection and should commit its work on it: if
// the session ends (the process dies, the connection is cut), PostgreSQL
// releases the lock and aborts the open transaction together, so a deposed
// leader can commit nothing more, and the standby that takes the lock resumes
// from what was committed. A killed leader's socket closes at once, so a
// standby takes over within `pollMs`. Used by the projection workers
// (readModels/postgres/leader.ts) and the Merkle log follower
// (transparency/postgres/leader.ts).
import pg from 'pg';
import { lockKey } from './pool.js';

/** What a leader runs while it holds the lock. */
export interface LeaderWork {
  /** Stops the work (the session is ending or the process is stopping). */
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  connectionString: string;
  schema: string;
  /** What is led, e.g. `projection:units`: names the lock (within the schema) and the connection. */
  purpose: string;
  /** How often a standby tries to take the lead (ms, default 1000). */
  pollMs?: number;
  /** Starts the work once this process leads, on the lock's own session. */
  lead(session: pg.Client): Promise<LeaderWork>;
  log?: (
    level: 'info' | 'warn' | 'error',
    message: string,
    fields?: Record<string, unknown>,
  ) => void;
}

export interface Leadership {
  /** Stops the work (when leading), releases the lock and stops standing. */
  stop(): Promise<void>;
  /** Whether this process leads now. */
  leading(): boolean;
  /** What is led (the lock's purpose, e.g. `projection:units`). */
  readonly purpose: string;
}

/** Stands for the lead of `purpose` until stopped. */
export function standForLeadership(options: LeadershipOptions): Leadership {
  const pollMs = options.pollMs ?? 1000;
  const key = lockKey(options.schema, options.purpose);
  const fields = { lead: options.purpose };
  let stopping = false;
  let work: LeaderWork | undefined;
  // Failed attempts in a row: a candidate that cannot lead (e.g. its work refuses
  // to start) waits longer each time, up to 30 s, so that another may take the lead.
  let failures = 0;
  const wakes = new Set<() => void>();
  const wakeAll = (): void => {
    for (const wake of [...wakes]) wake();
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        wakes.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakes.add(done);
    });

  const stand = async (): Promise<void> => {
    while (!stopping) {
      const client = new pg.Client({
        connectionString: options.connectionString,
        application_name: `provenant-leader-${options.purpose}`.slice(0, 63),
        options: `-c search_path=${options.schema}`,
        connectionTimeoutMillis: 5000,
        keepAlive: true,
      });
      let ended = false;
      let lost!: () => void;
      const sessionEnded = new Promise<void>((resolve) => {
        lost = () => {
          ended = true;
          resolve();
        };
      });
      client.on('error', () => lost());
      client.on('end', () => lost());
      try {
        await client.connect();
        while (!stopping) {
          const { rows } = await client.query<{ ok: boolean }>(
            'SELECT pg_try_advisory_lock($1) AS ok',
            [key],
          );
          if (rows[0]?.ok === true) break;
          await Promise.race([sleep(pollMs), sessionEnded]);
          if (ended) throw new Error('the connection to PostgreSQL ended');
        }
        if (stopping) break;
        work = await options.lead(client);
        failures = 0;
        options.log?.('info', `leading ${options.purpose}`, fields);
        // `stop()` wakes this wait (checked first: it may have come while the work started).
        if (!stopping)
          await Promise.race([sessionEnded, new Promise<void>((resolve) => wakes.add(resolve))]);
        await work.stop();
        work = undefined;
        if (!stopping)
          options.log?.('warn', `lost the lead of ${options.purpose}; standing by`, fields);
      } catch (error) {
        await work?.stop().catch(() => undefined);
        work = undefined;
        failures++;
        if (!stopping)
          options.log?.('warn', `leadership attempt for ${options.purpose} failed; retrying`, {
            ...fields,
            error: error instanceof Error ? error.message : String(error),
          });
      } finally {
        await client.end().catch(() => undefined);
      }
      if (!stopping) await sleep(Math.min(pollMs * 2 ** Math.min(failures, 5), 30_000));
    }
  };
  const running = stand();

  return {
    async stop() {
      stopping = true;
      wakeAll(); // the loop stops the work, releases the lock and returns
      await running;
    },
    leading: () => work !== undefined,
    purpose: options.purpose,
  };
}

/**
 * Runs `fn` while holding the leadership lock of `purpose`, so that no leader of
 * it runs meanwhile (one that starts waits until `fn` has ended); resolves to
 * `undefined` without running `fn` when a leader holds the lock now.
 */
export async function whileNoLeader<T>(
  options: Pick<LeadershipOptions, 'connectionString' | 'schema' | 'purpose'>,
  fn: () => Promise<T>,
): Promise<{ value: T } | undefined> {
  const client = new pg.Client({
    connectionString: options.connectionString,
    application_name: `provenant-hold-${options.purpose}`.slice(0, 63),
    connectionTimeoutMillis: 5000,
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
      lockKey(options.schema, options.purpose),
    ]);
    if (rows[0]?.ok !== true) return undefined;
    return { value: await fn() }; // the lock goes with the session, ended below
  } finally {
    await client.end();
  }
}
