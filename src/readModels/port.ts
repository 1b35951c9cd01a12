// The read-model store port (DESIGN.md §5): what a projection and the runner
// need of the store that holds read models, whatever the driver. Tables are
// declared by each projection; every change happens inside a transaction that
// also moves the projection's checkpoint, so a batch's rows and its checkpoint
// commit together or not at all. The SQLite and PostgreSQL adapters implement
// it; nothing above it names a driver. A projection is rebuilt out of sight:
// into new tables that replace the current ones in one transaction.

/** The column types a read-model table may declare. `JSON` holds any JSON value. */
export type ColumnType = 'TEXT' | 'INTEGER' | 'REAL' | 'BOOLEAN' | 'JSON';

/** A row as projections write and read it: column name → value (`null` when absent). */
export type Row = Record<string, unknown>;

/**
 * A table of a read model: its name (unique across the store), columns, primary
 * key and secondary indexes. `INTEGER` values read back as numbers (positions
 * fit in 2^53), `BOOLEAN` as booleans, `JSON` as the parsed value.
 */
export interface TableDefinition<R extends Row = Row> {
  readonly name: string;
  readonly columns: { readonly [K in keyof R & string]: ColumnType };
  readonly primaryKey: readonly (keyof R & string)[];
  readonly indexes?: readonly (readonly (keyof R & string)[])[];
}

/** Declares a table with its row type (checks the column names against it). */
export const defineTable = <R extends Row>(table: TableDefinition<R>): TableDefinition<R> => table;

/** Equality filters: every given column must equal its value (`null` matches NULL). */
export type Where<R extends Row> = Partial<R>;

export interface FindOptions<R extends Row> {
  /** Columns to sort by; the primary key is appended as a tie-breaker. Defaults to the primary key. */
  orderBy?: readonly (keyof R & string)[];
  /** Defaults to `asc`, for every column. */
  direction?: 'asc' | 'desc';
  /** Defaults to unbounded. */
  limit?: number;
  /** The `next` cursor of the previous page: rows after it in this order. */
  after?: string;
}

export interface FindResult<R extends Row> {
  rows: R[];
  /** Cursor for the next page; present when the page is full (`limit` rows). */
  next?: string;
}

/** Reads of typed tables (inside or outside a transaction). */
export interface ReadModelReader {
  get<R extends Row>(table: TableDefinition<R>, key: Partial<R>): Promise<R | undefined>;
  find<R extends Row>(
    table: TableDefinition<R>,
    where?: Where<R>,
    options?: FindOptions<R>,
  ): Promise<FindResult<R>>;
}

/** Reads of one consistent state of the store: tables and checkpoints. */
export interface ReadModelSnapshot extends ReadModelReader {
  getCheckpoint(projection: string): Promise<bigint | undefined>;
}

/** An event parked after its handler failed every retry. */
export interface ParkedEvent {
  id: number;
  projection: string;
  /** Global position of the event in `$all`. */
  position: bigint;
  eventId: string;
  type: string;
  error: string;
  attempts: number;
  /** ISO 8601 time it was parked. */
  parkedAt: string;
}

export type ParkedEventInput = Omit<ParkedEvent, 'id'>;

/** What a projection declares to the store: its tables, under a version. */
export interface ProjectionSchema {
  name: string;
  /** Bump it when the tables or the handler's output change: the store drops and rebuilds. */
  version: number;
  tables: readonly TableDefinition[];
}

/** Operations inside one transaction. */
export interface ReadModelTransaction extends ReadModelReader {
  /** Inserts the row, or replaces the row with the same primary key. */
  upsert<R extends Row>(table: TableDefinition<R>, row: R): Promise<void>;
  /** Sets the given columns of the row with `key`; a missing row is left missing. */
  update<R extends Row>(
    table: TableDefinition<R>,
    key: Partial<R>,
    patch: Partial<R>,
  ): Promise<void>;
  /** Deletes the row with `key`, if any. */
  delete<R extends Row>(table: TableDefinition<R>, key: Partial<R>): Promise<void>;
  /** Moves the projection's checkpoint (the last position it has applied). */
  setCheckpoint(projection: string, position: bigint): Promise<void>;
  getCheckpoint(projection: string): Promise<bigint | undefined>;
  /** Parks an event in the dead-letter table; returns its id. */
  park(entry: ParkedEventInput): Promise<number>;
  /** Removes a parked event and returns it (to retry it), or undefined. */
  takeParked(id: number): Promise<ParkedEvent | undefined>;
}

/**
 * The result of `ensureProjection`: `rebuilding` when the version changed but the
 * stored tables still answer the new declaration's queries (an out-of-sight
 * rebuild was begun, or is under way: the old tables serve until it completes).
 */
export type EnsureResult = 'created' | 'unchanged' | 'rebuilt' | 'rebuilding';

/** An out-of-sight rebuild of a projection (`beginRebuild`), as stored. */
export interface RebuildState {
  /** The version it rebuilds under. */
  version: number;
  /**
   * Begun with exactly the given schema (version and tables). A rebuild that is
   * not current was begun by other code: begin it again, or abort it.
   */
  current: boolean;
  /** The last position applied to its new tables; undefined before its first commit. */
  checkpoint: bigint | undefined;
}

/**
 * What the runner feeds projections through: the store itself, or a rebuild
 * view of it (`rebuildView`), where some projections' tables, checkpoints and
 * parked events are those of their out-of-sight rebuild.
 */
export interface ReadModelTarget extends ReadModelReader {
  /** The last position the projection applied, or undefined when it never ran. */
  getCheckpoint(projection: string): Promise<bigint | undefined>;
  /**
   * Runs `fn` in one transaction: every change it makes commits together, or
   * none when it throws (the error is rethrown). Transactions never interleave.
   */
  transaction<T>(fn: (tx: ReadModelTransaction) => Promise<T>): Promise<T>;
  /**
   * Drops the secondary indexes of the projection's tables, for a bulk load
   * (a replay from the log writes faster without them, and one sort builds
   * each index afterwards). Reads still answer, by scanning. Idempotent.
   */
  deferIndexes(name: string): Promise<void>;
  /** Creates the secondary indexes of the projection's tables that are missing. Idempotent. */
  buildIndexes(name: string): Promise<void>;
}

/** The port. */
export interface ReadModelStore extends ReadModelTarget {
  /**
   * Creates the projection's tables, or, when the stored version or tables
   * differ: begins an out-of-sight rebuild if the stored tables have the same
   * names, columns and keys (`rebuilding`; they keep serving until
   * `completeRebuild`), else drops and recreates them with the checkpoint and
   * parked events (`rebuilt`). Idempotent.
   */
  ensureProjection(schema: ProjectionSchema): Promise<EnsureResult>;
  /** Drops the projection's tables, checkpoint, parked events and any rebuild of it. */
  dropProjection(name: string): Promise<void>;
  /**
   * Begins an out-of-sight rebuild: creates new, empty tables for `schema`
   * under other names (secondary indexes deferred), replacing those of any
   * earlier rebuild of the projection. Its current tables, checkpoint and
   * parked events are untouched and keep serving. The rebuild is stored: it
   * survives a restart (see `getRebuild`).
   */
  beginRebuild(schema: ProjectionSchema): Promise<void>;
  /**
   * Begins an out-of-sight rebuild of each schema, as `beginRebuild` does,
   * except of a projection with one under way (whatever its declaration), all
   * in one transaction; returns the names of the projections it began one of.
   * For a process that does not run the projections (`projections rebuild`
   * beside a server): the runner that does sees them within its
   * `rebuildPollMs` and replays into them, as it finishes a rebuild cut short.
   */
  requestRebuilds(schemas: readonly ProjectionSchema[]): Promise<string[]>;
  /** The projection's rebuild under way, if any (`current` against `schema`). */
  getRebuild(schema: ProjectionSchema): Promise<RebuildState | undefined>;
  /**
   * The store as the rebuilds of `schemas` see it: the tables these schemas
   * declare are their rebuild's new tables, and their checkpoints and parked
   * events are the rebuild's; every other table and projection is the store's
   * own. The store's reads still see the current tables. `deferIndexes` and
   * `buildIndexes` of a rebuilt projection do nothing: `completeRebuild`
   * builds its indexes.
   */
  rebuildView(schemas: readonly ProjectionSchema[]): ReadModelTarget;
  /**
   * Builds the rebuild's secondary indexes on its new tables (before the swap,
   * outside its transaction), then swaps it in, atomically (one transaction that
   * builds none): drops the current tables, puts the new ones in their place,
   * moves its checkpoint and parked events over and records its version.
   * READ_MODEL_INVALID when no rebuild of `name` is under way.
   */
  completeRebuild(name: string): Promise<void>;
  /** Drops the rebuild's tables and forgets it; the current ones are untouched. Idempotent. */
  abortRebuild(name: string): Promise<void>;
  /**
   * The id of the first event of the log the projection's read model was built
   * from, as `setSourceLog` recorded it (undefined before): a read model that
   * names another log than the one it follows now is not trusted (sourceLog.ts).
   */
  getSourceLog(projection: string): Promise<string | undefined>;
  /** Records the id of the first event of the log the projection's read model is built from. */
  setSourceLog(projection: string, firstEventId: string): Promise<void>;
  /** Parked events, oldest first (of one projection when given). */
  listParked(projection?: string): Promise<ParkedEvent[]>;
  getParked(id: number): Promise<ParkedEvent | undefined>;
  /**
   * Runs `fn` over one read-only snapshot: every read it makes sees the same
   * committed state (checkpoints and rows agree), also while a runner in another
   * process commits. For a query that reads checkpoints and then rows; also
   * cheaper than separate reads. The store must not be called from inside `fn`.
   */
  read<T>(fn: (snapshot: ReadModelSnapshot) => Promise<T>): Promise<T>;
  /** Waits for the running transaction, then releases the store. Idempotent. */
  close(): Promise<void>;
}
