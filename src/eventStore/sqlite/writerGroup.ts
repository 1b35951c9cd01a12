// Applies a stream of append operations to one group transaction and collects
// one outcome per append. Both writers drive it: the inline writer with whole
// appends, the worker with appends that may arrive in several chunks.
import { ProvenantError } from '../../errors.js';
import type { AppendResult } from '../types.js';
import {
  serializeError,
  type AppendCursor,
  type AppendHeader,
  type PreparedRow,
  type SerializedError,
  type WriterCore,
} from './writerCore.js';

export type Outcome =
  | { id: number; ok: true; result: AppendResult }
  | { id: number; ok: false; error: SerializedError };

/** Messages from the store to its writer. */
export type WriterMessage =
  | { t: 'append'; id: number; header: AppendHeader; rows: PreparedRow[]; end: boolean }
  | { t: 'rows'; id: number; rows: PreparedRow[]; end: boolean }
  | { t: 'abort'; id: number }
  | { t: 'close' };

/** Messages from the writer back to the store. */
export type WriterReply =
  { t: 'committed'; outcomes: Outcome[] } | { t: 'failed'; outcomes: Outcome[] };

export interface GroupApplier {
  apply(message: Exclude<WriterMessage, { t: 'close' }>): void;
  /** True when a group is open and no append is half-received. */
  readonly canCommit: boolean;
  readonly hasWork: boolean;
  /** Commits the group; returns the outcomes (all failures if the commit failed). */
  commit(): { committed: boolean; outcomes: Outcome[] };
}

export function createGroupApplier(core: WriterCore): GroupApplier {
  let outcomes: Outcome[] = [];
  /** The append whose chunks are still arriving. */
  let current: { id: number; cursor?: AppendCursor; settled: boolean } | undefined;
  let broken: SerializedError | undefined;

  const fail = (id: number, error: unknown): void => {
    outcomes.push({ id, ok: false, error: serializeError(error) });
  };

  /** A storage failure: nothing of this group can be trusted, so all of it fails. */
  const breakGroup = (error: unknown): void => {
    broken = serializeError(
      new ProvenantError('STORE_BACKEND_UNAVAILABLE', `SQLite write failed: ${String(error)}`, {
        cause: error,
      }),
    );
    try {
      core.rollbackGroup();
    } catch {
      // already rolled back by SQLite
    }
  };

  const end = (): void => {
    if (current === undefined) return;
    const { id, cursor, settled } = current;
    current = undefined;
    if (settled || cursor === undefined || broken) return;
    try {
      outcomes.push({ id, ok: true, result: core.finishAppend(cursor) });
    } catch (error) {
      breakGroup(error);
    }
  };

  const insert = (rows: readonly PreparedRow[]): void => {
    if (current?.cursor === undefined || current.settled || broken) return;
    try {
      core.insert(current.cursor, rows);
    } catch (error) {
      breakGroup(error);
    }
  };

  return {
    apply(message) {
      switch (message.t) {
        case 'append': {
          if (current !== undefined) end(); // a previous append lost its end: close it as received
          current = { id: message.id, settled: false };
          if (broken) {
            current.settled = true;
          } else {
            try {
              if (!core.inGroup) core.beginGroup();
              const started = core.startAppend(message.header);
              if ('duplicate' in started) {
                outcomes.push({ id: message.id, ok: true, result: started.duplicate });
                current.settled = true;
              } else current.cursor = started.cursor;
            } catch (error) {
              current.settled = true;
              if (error instanceof ProvenantError) fail(message.id, error);
              else breakGroup(error);
            }
          }
          insert(message.rows);
          if (message.end) end();
          return;
        }
        case 'rows':
          if (current?.id !== message.id) return;
          insert(message.rows);
          if (message.end) end();
          return;
        case 'abort':
          if (current?.id !== message.id) return;
          if (current.cursor !== undefined && !current.settled && !broken) {
            try {
              core.abortAppend(current.cursor);
            } catch (error) {
              breakGroup(error);
            }
          }
          current.settled = true;
          fail(
            message.id,
            new ProvenantError('STORE_INVALID_EVENT', 'Append aborted by the caller'),
          );
          current = undefined;
          return;
      }
    },

    get canCommit() {
      return current === undefined;
    },

    get hasWork() {
      return outcomes.length > 0 || current !== undefined || broken !== undefined;
    },

    commit() {
      const done = outcomes;
      outcomes = [];
      if (broken) {
        const error = broken;
        broken = undefined;
        return { committed: false, outcomes: done.map(({ id }) => ({ id, ok: false, error })) };
      }
      if (!core.inGroup) return { committed: true, outcomes: done };
      try {
        core.commitGroup();
        return { committed: true, outcomes: done };
      } catch (commitError) {
        try {
          core.rollbackGroup();
        } catch {
          // nothing more to undo
        }
        const error = serializeError(
          new ProvenantError(
            'STORE_BACKEND_UNAVAILABLE',
            `SQLite commit failed: ${String(commitError)}`,
            {
              cause: commitError,
            },
          ),
        );
        return { committed: false, outcomes: done.map(({ id }) => ({ id, ok: false, error })) };
      }
    },
  };
}
