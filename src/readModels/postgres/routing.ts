// The port's reads and transaction objects on PostgreSQL, routed (../routed.ts):
// the tables, checkpoints and parked events of projections being rebuilt out of
// sight are those of their rebuild (src/readModels/shadow.ts), every other one
// the store's own. With no projection rebuilt, they are the store's plain reads
// and writes.
import type { ReadModelTransaction } from '../port.js';
import {
  routedReads,
  routedTransaction,
  type OwnReads,
  type RebuildCheckpoints,
  type Routing,
} from '../routed.js';
import { operations, writes, type Connection } from './operations.js';
import { parkInRebuild, rebuildCheckpoint, setRebuildCheckpoint } from './rebuild.js';

export type { Routing };

/** The rebuilds' checkpoints and parked events, on `q`. */
const rebuildsOn = (q: Connection): RebuildCheckpoints => ({
  checkpoint: (projection) => rebuildCheckpoint(q, projection),
  setCheckpoint: (projection, position) => setRebuildCheckpoint(q, projection, position),
  park: (entry) => parkInRebuild(q, entry),
});

/** Reads of `routing`'s tables and checkpoints, on `q` (a connection or the pool). */
export const pgRoutedReads = (q: Connection, routing: Routing): OwnReads =>
  routedReads(operations(q), rebuildsOn(q), routing);

/** The transaction object on `c`, refusing every call once `isOpen()` is false. */
export const pgRoutedTransaction = (
  c: Connection,
  routing: Routing,
  isOpen: () => boolean,
): ReadModelTransaction =>
  routedTransaction(operations(c), writes(c), rebuildsOn(c), routing, isOpen);
