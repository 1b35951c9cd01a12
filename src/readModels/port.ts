// The read-model store port (DESIGN.md §5): what a projection and the runner
// need of the store that holds read models, whatever the driver. Tables are
// declared by each projection; every change happens inside a transaction that
// also moves the projection's checkpoint, so a batch's rows and its checkpoint
// commit together or not at all. The SQLite adapter implements it today and a
// PostgreSQL adapter will implement it next; nothing above it names a driver.

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

/** The result of `ensureProjection`. */
export type EnsureResult = 'created' | 'unchanged' | 'rebuilt';

/** The port. */
export interface ReadModelStore extends ReadModelReader {
  /**
   * Creates the projection's tables, or drops and recreates them (and its
   * checkpoint) when the stored version differs. Idempotent.
   */
  ensureProjection(schema: ProjectionSchema): Promise<EnsureResult>;
  /** Drops the projection's tables, checkpoint and parked events (before a rebuild). */
  dropProjection(name: string): Promise<void>;
  /**
   * Drops the secondary indexes of the projection's tables, for a bulk load
   * (a replay from the log writes faster without them, and one sort builds
   * each index afterwards). Reads still answer, by scanning. Idempotent.
   */
  deferIndexes(name: string): Promise<void>;
  /** Creates the secondary indexes of the projection's tables that are missing. Idempotent. */
  buildIndexes(name: string): Promise<void>;
  /** The last position the projection applied, or undefined when it never ran. */
  getCheckpoint(projection: string): Promise<bigint | undefined>;
  /** Parked events, oldest first (of one projection when given). */
  listParked(projection?: string): Promise<ParkedEvent[]>;
  getParked(id: number): Promise<ParkedEvent | undefined>;
  /**
   * Runs `fn` in one transaction: every change it makes commits together, or
   * none when it throws (the error is rethrown). Transactions never interleave.
   */
  transaction<T>(fn: (tx: ReadModelTransaction) => Promise<T>): Promise<T>;
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
