// The archive form of an export: the same folder packed as a gzipped tar with
// the `tar` package, files in a fixed order (manifest first, then by path) with
// portable headers and one mtime, so that the same folder packs to the same
// bytes. Reading one back yields its files in memory, for the offline verifier.
import { create, list, type ReadEntry } from 'tar';
import { ProvenantError } from '../../errors.js';

/** True when `path` names an archive (`.tar.gz` or `.tgz`) rather than a folder. */
export const isArchivePath = (path: string): boolean => /\.(?:tar\.gz|tgz)$/i.test(path);

/** Packs `paths` (relative to `dir`, in the given order) into `file`, or returns the bytes. */
export async function packFolder(
  dir: string,
  paths: readonly string[],
  mtime: Date,
  file?: string,
): Promise<Buffer> {
  const options = { gzip: true, cwd: dir, portable: true, mtime, noDirRecurse: true } as const;
  if (file !== undefined) {
    await create({ ...options, file }, [...paths]);
    return Buffer.alloc(0);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of create(options, [...paths]) as AsyncIterable<Buffer>)
    chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** What an archive holds: its regular files by path, and every other entry (links, devices …). */
export interface ArchiveContents {
  files: Map<string, Buffer>;
  /** Paths of entries that are not regular files or folders. */
  others: string[];
}

/** Reads every entry of a .tar.gz into memory. EXPORT_UNREADABLE when it is not one. */
export async function readArchive(file: string): Promise<ArchiveContents> {
  const files = new Map<string, Buffer>();
  const others: string[] = [];
  const pending: Promise<void>[] = [];
  try {
    await list({
      file,
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const path = entry.path.replace(/^\.\//, '');
        if (entry.type === 'Directory') {
          entry.resume();
          return;
        }
        const regular =
          entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
        if (!regular || files.has(path)) {
          others.push(regular ? `${path} (a second entry of that name)` : path);
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        pending.push(
          new Promise((resolve) =>
            entry.on('end', () => {
              files.set(path, Buffer.concat(chunks));
              resolve();
            }),
          ),
        );
      },
    });
    await Promise.all(pending);
  } catch (error) {
    throw new ProvenantError(
      'EXPORT_UNREADABLE',
      `${file} is not a readable .tar.gz archive: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return { files, others };
}
