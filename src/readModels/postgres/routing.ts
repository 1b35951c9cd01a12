// The port's reads and transaction objects on PostgreSQL, routed: the tables,
// checkpoints and parked events of projections being rebuilt out of sight are
// those of their rebuild (src/readModels/shadow.ts), every other one the
// store's own. With no projection rebuilt, they are the store's plain reads
// and writes.
import { ProvenantError } from '../../errors.js';
import type {
  FindOptions,
  ParkedEventInput,
  ReadModelTransaction,
  Row,
  TableDefinition,
  Where,
} from '../port.js';
import type { shadowRouting } from '../shadow.js';
import { operations, writes, type Connection } from './operations.js';
import { parkInRebuild, rebuildCheckpoint, setRebuildCheckpoint } from './rebuild.js';

export type Routing = ReturnType<typeof shadowRouting>;

/** Reads of `routing`'s tables and checkpoints, on `q` (a connection or the pool). */
export function routedReads(q: Connection, routing: Routing) {
  const own = operations(q);
  return {
    get: <R extends Row>(table: TableDefinition<R>, key: Partial<R>) =>
      own.get(routing.table(table), key),
    find: <R extends Row>(table: TableDefinition<R>, where?: Where<R>, options?: FindOptions<R>) =>
      own.find(routing.table(table), where, options),
    getCheckpoint: (projection: string) =>
      routing.rebuilding(projection)
        ? rebuildCheckpoint(q, projection)
        : own.getCheckpoint(projection),
  };
}

/** The transaction object on `c`, refusing every call once `isOpen()` is false. */
export function routedTransaction(
  c: Connection,
  routing: Routing,
  isOpen: () => boolean,
): ReadModelTransaction {
  const guard =
    <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (!isOpen()) throw new ProvenantError('READ_MODEL_CLOSED', 'the transaction has ended');
      return f(...args);
    };
  const reads = routedReads(c, routing);
  const w = writes(c);
  return {
    get: guard(reads.get),
    find: guard(reads.find),
    getCheckpoint: guard(reads.getCheckpoint),
    upsert: guard((table: TableDefinition, row: Row) => w.upsert(routing.table(table), row)),
    update: guard((table: TableDefinition, key: Row, patch: Row) =>
      w.update(routing.table(table), key, patch),
    ),
    delete: guard((table: TableDefinition, key: Row) => w.delete(routing.table(table), key)),
    setCheckpoint: guard((projection: string, position: bigint) =>
      routing.rebuilding(projection)
        ? setRebuildCheckpoint(c, projection, position)
        : w.setCheckpoint(projection, position),
    ),
    park: guard((entry: ParkedEventInput) =>
      routing.rebuilding(entry.projection) ? parkInRebuild(c, entry) : w.park(entry),
    ),
    takeParked: guard(w.takeParked),
  };
}
