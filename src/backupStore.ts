// `provenant backup`: a consistent copy of the embedded store while it runs.
// Order matters: the Merkle log is copied before the log, so the log's copy
// holds every event the tree's copy recorded (the tree follows committed
// events only). The other way round, a restore would find the tree ahead of
// the log and refuse to sign (TLOG_LOG_MISMATCH; transparency/logMatch.ts).
// Read models are not copied: they are derived, and rebuild from the log at
// start. PostgreSQL and KurrentDB have backups of their own.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { requireSQLiteLog, treeOnPostgres } from './composition.js';
import type { Config } from './configTypes.js';
import { ProvenantError } from './errors.js';
import { copySQLiteDatabase } from './eventStore/sqlite/backup.js';
import { getSQLiteEventStore } from './eventStore/sqlite/index.js';
import { logMismatch } from './transparency/logMatch.js';
import { getSQLiteTreeStore } from './transparency/sqlite/treeStore.js';

export interface BackedUpFile {
  /** What it is: `log`, `merkle log`, `note key`, `signing key` … */
  what: string;
  path: string;
  bytes: number;
}

export interface BackupResult {
  files: BackedUpFile[];
  /** The log's copy: its last position. */
  logHead: bigint;
  /** The Merkle log's copy: leaves and latest checkpoint size (undefined without a SQLite tree). */
  tree: { size: number; checkpoint: number | undefined } | undefined;
}

/** Copies the SQLite log and Merkle log (and, with `withKeys`, the key files) into `dir`. */
export async function backupStore(
  config: Config,
  dir: string,
  options: { withKeys?: boolean; onFile?: (what: string) => void } = {},
): Promise<BackupResult> {
  if (config.store !== 'sqlite' || config.sqlite.path === ':memory:')
    throw new ProvenantError(
      'CONFIG_INVALID',
      `provenant backup copies the embedded SQLite store; PROVENANT_STORE=${config.store}${config.store === 'sqlite' ? ' in memory' : ''} is backed up with its own tools (PostgreSQL: pg_dump of schema ${config.postgres.schema}; KurrentDB: its backup procedure)`,
    );
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new ProvenantError('BACKUP_TARGET_EXISTS', `${dir} exists and is not empty`);
  requireSQLiteLog(config);
  makeDirectory(dir);
  const files: BackedUpFile[] = [];
  const copy = (what: string, source: string): string => {
    options.onFile?.(what);
    const target = join(dir, basename(source));
    files.push({ what, path: target, bytes: copySQLiteDatabase(source, target) });
    return target;
  };
  const treePath = config.transparency.path;
  const sqliteTree = !treeOnPostgres(config) && treePath !== ':memory:' && existsSync(treePath);
  const treeCopy = sqliteTree ? copy('merkle log', treePath) : undefined;
  const logCopy = copy('log', config.sqlite.path);
  if (options.withKeys === true) {
    const keys: [string, string][] = [
      ['note key', config.transparency.keyPath],
      ['signing key', config.attestation.signingKeyPath],
    ];
    for (const [what, source] of keys) {
      if (!existsSync(source)) continue;
      const target = join(dir, basename(source));
      copyFileSync(source, target);
      chmodSync(target, 0o600);
      files.push({ what, path: target, bytes: statSync(target).size });
    }
  }
  return { files, ...(await checkCopies(logCopy, treeCopy)) };
}

/** The copies' heads, and that the log's copy holds what the tree's copy recorded. */
async function checkCopies(
  logCopy: string,
  treeCopy: string | undefined,
): Promise<Pick<BackupResult, 'logHead' | 'tree'>> {
  const log = getSQLiteEventStore({ path: logCopy });
  const tree = treeCopy === undefined ? undefined : getSQLiteTreeStore({ path: treeCopy });
  try {
    const logHead = await log.headPosition();
    if (tree === undefined) return { logHead, tree: undefined };
    const mismatch = await logMismatch(log, tree);
    if (mismatch !== undefined)
      throw new ProvenantError('TLOG_LOG_MISMATCH', `The copies do not agree: ${mismatch}`);
    const size = (await tree.state()).size;
    return { logHead, tree: { size, checkpoint: (await tree.latestCheckpoint())?.size } };
  } finally {
    await tree?.close();
    await log.close();
  }
}

/**
 * Creates `dir` and its missing parents one level at a time, from the nearest
 * one that exists: `mkdirSync(dir, { recursive: true })` loops forever where
 * the kernel answers ENOENT to a mkdir under an existing folder (`/proc/x` on
 * Node 20), where this fails at once with the system's error.
 */
function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let path = dir; !existsSync(path) && dirname(path) !== path; path = dirname(path))
    missing.unshift(path);
  for (const path of missing) mkdirSync(path);
}
