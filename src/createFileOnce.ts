// Creating a file exactly once when several processes may try at the same time
// (nodes that share a data directory and start together, each generating a key
// it finds missing): the content goes to a file of its own first and is linked
// into place, so exactly one writer wins and no reader sees a half-written file.
import { randomBytes } from 'node:crypto';
import { linkSync, unlinkSync, writeFileSync } from 'node:fs';

/** Writes `content` to `path` unless it exists; true when this call created it. */
export function createFileOnce(path: string, content: string | Buffer, mode: number): boolean {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode, flag: 'wx' });
  try {
    linkSync(tmp, path); // EEXIST when another writer linked its file first
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    unlinkSync(tmp);
  }
}
