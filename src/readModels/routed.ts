// The port's reads and transaction objects, routed for out-of-sight rebuilds
// (shadow.ts): the tables, checkpoints and parked events of the projections
// being rebuilt are those of their rebuild, every other one the store's own.
// Both adapters build theirs here from their own operations, synchronous
// (SQLite) or not (PostgreSQL). No driver.
import { ProvenantError } from '../errors.js';
import type {
  FindOptions,
  FindResult,
  ParkedEvent,
  ParkedEventInput,
  ReadModelTransaction,
  Row,
  TableDefinition,
  Where,
} from './port.js';
import type { shadowRouting } from './shadow.js';

export type Routing = ReturnType<typeof shadowRouting>;

type Awaitable<T> = T | Promise<T>;

/** A store's own reads: its tables and checkpoints. */
export interface OwnReads {
  get: <R extends Row>(table: TableDefinition<R>, key: Partial<R>) => Awaitable<R | undefined>;
  find: <R extends Row>(
    table: TableDefinition<R>,
    where?: Where<R>,
    options?: FindOptions<R>,
  ) => Awaitable<FindResult<R>>;
  getCheckpoint: (projection: string) => Awaitable<bigint | undefined>;
}

/** A store's own writes inside a transaction. */
export interface OwnWrites {
  upsert: (table: TableDefinition, row: Row) => Awaitable<void>;
  update: (table: TableDefinition, key: Row, patch: Row) => Awaitable<void>;
  delete: (table: TableDefinition, key: Row) => Awaitable<void>;
  setCheckpoint: (projection: string, position: bigint) => Awaitable<void>;
  park: (entry: ParkedEventInput) => Awaitable<number>;
  takeParked: (id: number) => Awaitable<ParkedEvent | undefined>;
}

/** The checkpoints and parked events of the projections being rebuilt. */
export interface RebuildCheckpoints {
  checkpoint: (projection: string) => Awaitable<bigint | undefined>;
  setCheckpoint: (projection: string, position: bigint) => Awaitable<void>;
  park: (entry: ParkedEventInput) => Awaitable<number>;
}

/** Reads of `routing`'s tables and checkpoints. */
export function routedReads(
  own: OwnReads,
  rebuild: Pick<RebuildCheckpoints, 'checkpoint'>,
  routing: Routing,
): OwnReads {
  return {
    get: (table, key) => own.get(routing.table(table), key),
    find: (table, where, options) => own.find(routing.table(table), where, options),
    getCheckpoint: (projection) =>
      routing.rebuilding(projection)
        ? rebuild.checkpoint(projection)
        : own.getCheckpoint(projection),
  };
}

/** `fn` as an operation that returns a promise and refuses to run once `isOpen()` is false. */
export const guarded =
  (isOpen: () => boolean) =>
  <A extends unknown[], T>(fn: (...args: A) => Awaitable<T>) =>
  async (...args: A): Promise<T> => {
    if (!isOpen()) throw new ProvenantError('READ_MODEL_CLOSED', 'the transaction has ended');
    return fn(...args);
  };

/** The transaction object over `routing`, refusing every call once `isOpen()` is false. */
export function routedTransaction(
  own: OwnReads,
  writes: OwnWrites,
  rebuild: RebuildCheckpoints,
  routing: Routing,
  isOpen: () => boolean,
): ReadModelTransaction {
  const guard = guarded(isOpen);
  const reads = routedReads(own, rebuild, routing);
  return {
    get: guard(reads.get),
    find: guard(reads.find),
    getCheckpoint: guard(reads.getCheckpoint),
    upsert: guard((table: TableDefinition, row: Row) => writes.upsert(routing.table(table), row)),
    update: guard((table: TableDefinition, key: Row, patch: Row) =>
      writes.update(routing.table(table), key, patch),
    ),
    delete: guard((table: TableDefinition, key: Row) => writes.delete(routing.table(table), key)),
    setCheckpoint: guard((projection: string, position: bigint) =>
      routing.rebuilding(projection)
        ? rebuild.setCheckpoint(projection, position)
        : writes.setCheckpoint(projection, position),
    ),
    park: guard((entry: ParkedEventInput) =>
      routing.rebuilding(entry.projection) ? rebuild.park(entry) : writes.park(entry),
    ),
    takeParked: guard(writes.takeParked),
  };
}
