// The archive form of an export: the same folder packed as a gzipped tar with
// the `tar` package, files in a fixed order (manifest first, then by path) with
// portable headers and one mtime, so that the same folder packs to the same
// bytes. Reading one back yields its files in memory, for the offline verifier.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { create, Parser, type ReadEntry } from 'tar';
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

/**
 * The most an export may hold, uncompressed, unless told otherwise: far above
 * any unit's evidence (a receipt is ~1–2 KB, an attestation ~10 KB), far below
 * what a verifier's memory would bear. An archive is read into memory, and a
 * few megabytes of gzip can stand for gigabytes.
 */
export const EXPORT_MAX_BYTES = 1024 ** 3;

/** EXPORT_UNREADABLE for an export larger than `maxBytes`. */
export const tooLarge = (path: string, maxBytes: number): ProvenantError =>
  new ProvenantError(
    'EXPORT_UNREADABLE',
    `${path} holds more than ${maxBytes} bytes uncompressed: more than this verifier reads (--max-bytes raises the limit)`,
  );

/**
 * Reads every entry of a .tar.gz into memory. EXPORT_UNREADABLE when it is not
 * one, or when its files add up to more than `maxBytes` (reading stops there).
 */
export async function readArchive(
  file: string,
  maxBytes: number = EXPORT_MAX_BYTES,
): Promise<ArchiveContents> {
  const files = new Map<string, Buffer>();
  const others: string[] = [];
  let total = 0;
  const parser: Parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const path = entry.path.replace(/^\.\//, '');
      const regular =
        entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
      if (entry.type === 'Directory' || !regular || files.has(path)) {
        if (entry.type !== 'Directory')
          others.push(regular ? `${path} (a second entry of that name)` : path);
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > maxBytes) parser.abort(tooLarge(file, maxBytes));
        else chunks.push(chunk);
      });
      entry.on('end', () => files.set(path, Buffer.concat(chunks)));
    },
  });
  try {
    await pipeline(createReadStream(file), parser as unknown as NodeJS.WritableStream);
  } catch (error) {
    if (error instanceof ProvenantError) throw error;
    throw new ProvenantError(
      'EXPORT_UNREADABLE',
      `${file} is not a readable .tar.gz archive: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return { files, others };
}
