// Reading an export stops at its size bound: a few kilobytes of gzip can
// stand for gigabytes, and an export is read into memory, so a verifier given
// a hostile archive (or folder) answers EXPORT_UNREADABLE instead of running
// out of memory. Under the bound, the same files read back whole.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hasCode } from '../../../test/support/errors.js';
import { packFolder, readArchive } from './archive.js';
import { verifyExport } from './verifyExport.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-archive-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1024 ** 2;
/**
 * A folder of a small manifest and 2 MiB of random bytes, and its .tar.gz. (Not
 * zeros: the tar package already refuses a compression ratio over 1,000, which
 * a real bomb stays under by compressing less tightly.)
 */
async function large(): Promise<{ folder: string; archive: string }> {
  const folder = join(dir, 'large');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'manifest.json'), '{}');
  writeFileSync(join(folder, 'events.jsonl'), randomBytes(2 * MiB));
  const archive = join(dir, 'large.tar.gz');
  await packFolder(folder, ['manifest.json', 'events.jsonl'], new Date(0), archive);
  return { folder, archive };
}

describe('an export larger than the bound', () => {
  it('an archive: EXPORT_UNREADABLE once its files pass the bound; whole under it', async () => {
    const { archive } = await large();
    await assert.rejects(
      readArchive(archive, MiB),
      (error: unknown) =>
        hasCode('EXPORT_UNREADABLE')(error) &&
        /holds more than 1048576 bytes uncompressed/.test(String(error)),
    );
    const whole = await readArchive(archive, 3 * MiB);
    assert.equal(whole.files.get('events.jsonl')?.length, 2 * MiB);
    assert.equal(whole.files.get('manifest.json')?.toString(), '{}');
  });

  it('verifyExport reports it as the one problem, for an archive and for a folder', async () => {
    const { folder, archive } = await large();
    for (const path of [archive, folder]) {
      const result = await verifyExport(path, { maxBytes: MiB });
      assert.equal(result.ok, false);
      assert.deepEqual(
        result.problems.map((p) => p.code),
        ['EXPORT_UNREADABLE'],
        path,
      );
      assert.match(result.problems[0]?.message ?? '', /holds more than 1048576 bytes/);
    }
    // Under the bound the checks run (this is no export: its manifest is empty).
    const read = await verifyExport(archive, { maxBytes: 3 * MiB });
    assert.notDeepEqual(
      read.problems.map((p) => p.code),
      ['EXPORT_UNREADABLE'],
    );
  });
});
