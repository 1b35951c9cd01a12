// What both PostgreSQL adapters (the log and the read models) share: a `pg`
// pool bound to one schema, advisory-lock keys scoped to that schema, and the
// test for "the server is unreachable" that becomes a 503 at the edge.
import { hash } from 'node:crypto';
import pg from 'pg';
import { ProvenantError } from '../errors.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PostgresOptions {
  /** `postgres://user@host:port/database` (libpq URL). */
  connectionString: string;
  /** Schema that holds Provenant's tables (created when missing). Default `public`. */
  schema?: string;
  /** Most connections of the pool (default 10). */
  maxConnections?: number;
  /** How long a new connection may take before the call fails (ms, default 5000). */
  connectTimeoutMs?: number;
  /** Prefix of the connections' `application_name` (default `provenant`), shown in pg_stat_activity. */
  applicationName?: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a schema name (lower-case identifier) and returns it quoted. */
export function quoteSchema(schema: string): string {
  if (!IDENTIFIER.test(schema))
    throw new ProvenantError(
      'CONFIG_INVALID',
      `PostgreSQL schema must be a lower-case identifier, got '${schema}'`,
    );
  return `"${schema}"`;
}

/** A pool whose every connection uses `schema` (search_path), named after the process. */
export function createPool(options: PostgresOptions, purpose: string): Pool {
  const schema = options.schema ?? 'public';
  quoteSchema(schema);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    application_name: `${options.applicationName ?? 'provenant'}-${purpose}`,
    options: `-c search_path=${schema}`,
  });
  // An idle connection the server ends (restart, pg_terminate_backend) is
  // reported here; the pool drops it and the next call opens a new one.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A 64-bit advisory-lock key (as the decimal text PostgreSQL's `bigint` takes)
 * for `purpose` within `schema`, so that stores in different schemas of one
 * database never wait for each other.
 */
export function lockKey(schema: string, purpose: string): string {
  return hash('sha256', `provenant:${schema}:${purpose}`, 'buffer').readBigInt64BE(0).toString();
}

/** A NOTIFY channel name for `purpose` within `schema` (an identifier of at most 63 bytes). */
export function channelName(schema: string, purpose: string): string {
  return `provenant_${purpose}_${hash('sha256', schema, 'hex').slice(0, 16)}`;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown (pg_terminate_backend, server stopping)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
]);

/** True when `error` means the server cannot be reached or dropped the connection. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08')))
    return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|not queryable/i.test(
    error.message,
  );
}

/** The error's message without secrets (pg never puts the password in its messages). */
export const describeError = (error: unknown): string =>
  error instanceof Error
    ? error.message || String((error as { code?: unknown }).code)
    : String(error);

/**
 * Runs `work`; when the server cannot be reached or drops the connection, throws
 * what `unavailable` makes of it instead (each component's own 503 error) with
 * the message `PostgreSQL is unavailable: …`. Other errors pass unchanged.
 */
export async function mapConnectionError<T>(
  work: () => Promise<T>,
  unavailable: (message: string, cause: unknown) => Error,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isConnectionError(error)) throw error;
    throw unavailable(`PostgreSQL is unavailable: ${describeError(error)}`, error);
  }
}

/**
 * Runs `work` in a transaction on `c`, opened with `begin`: COMMIT after it,
 * ROLLBACK after a failure, except when the connection was lost. `release`
 * is then called with the lost connection's error (a pool discards it), or
 * with nothing.
 */
export async function inTransaction<T>(
  c: Pick<Pool, 'query'>,
  work: () => Promise<T>,
  options: { begin?: string; release?: (broken: Error | undefined) => void } = {},
): Promise<T> {
  let broken: Error | undefined;
  try {
    await c.query(options.begin ?? 'BEGIN');
    const result = await work();
    await c.query('COMMIT');
    return result;
  } catch (error) {
    if (isConnectionError(error)) broken = error as Error;
    else await c.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    options.release?.(broken);
  }
}
