import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createFileOnce } from './createFileOnce.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-create-once-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('createFileOnce', () => {
  it('creates the file once with its mode; a later writer keeps the first content', () => {
    const path = join(dir, 'key.pem');
    assert.equal(createFileOnce(path, 'first', 0o600), true);
    assert.equal(createFileOnce(path, 'second', 0o600), false);
    assert.equal(readFileSync(path, 'utf8'), 'first');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['key.pem'], 'no temporary file left behind');
  });

  it('lets exactly one of many racing writers win', async () => {
    const path = join(dir, 'raced.pem');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        Promise.resolve().then(() => createFileOnce(path, `writer ${i}`, 0o600)),
      ),
    );
    assert.equal(results.filter(Boolean).length, 1);
    const winner = results.indexOf(true);
    assert.equal(readFileSync(path, 'utf8'), `writer ${winner}`);
  });
});
