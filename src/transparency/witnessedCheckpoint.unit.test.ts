// The newest checkpoint a quorum of witnesses cosigned: counted by distinct key
// names on the stored note, found past a page of unwitnessed ones, kept while
// newer ones wait, replaced once a newer one is cosigned; a bad or foreign
// cosignature counts nothing.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { noteSigner, signNote } from './note.js';
import type { SignedCheckpoint } from './port.js';
import { parseCosignerKey, type CosignerKey } from './witness/cosignature.js';
import { cosignerCount, witnessedCheckpoints } from './witnessedCheckpoint.js';

interface Witness {
  key: CosignerKey;
  cosign(noteText: string): string;
}

/** A witness made here from the C2SP cosignature/v1 spec. */
function witness(name: string): Witness {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.concat([
    Buffer.from([0x04]),
    publicKey.export({ format: 'der', type: 'spki' }).subarray(-32),
  ]);
  const id = createHash('sha256').update(`${name}\n`).update(raw).digest().subarray(0, 4);
  const key = parseCosignerKey(`${name}+${id.toString('hex')}+${raw.toString('base64')}`);
  const cosign = (noteText: string, by: KeyObject = privateKey): string => {
    const time = BigInt(Math.floor(Date.now() / 1000));
    const stamp = Buffer.alloc(8);
    stamp.writeBigUInt64BE(time);
    const signature = sign(null, Buffer.from(`cosignature/v1\ntime ${time}\n${noteText}`), by);
    return `— ${name} ${Buffer.concat([id, stamp, signature]).toString('base64')}\n`;
  };
  return { key, cosign: (text) => cosign(text) };
}

const log = noteSigner('provenant.test/log', generateKeyPairSync('ed25519').privateKey);
const w1 = witness('w1.test');
const w2 = witness('w2.test');

/** A signed checkpoint of `size`, cosigned by `by`. */
function checkpoint(size: number, by: Witness[] = []): SignedCheckpoint {
  const root = createHash('sha256').update(String(size)).digest();
  const note = signNote(`provenant.test/log\n${size}\n${root.toString('base64')}\n`, log);
  const text = note.slice(0, note.indexOf('\n\n') + 1);
  return {
    size,
    root,
    note: note + by.map((w) => w.cosign(text)).join(''),
    signedAt: new Date().toISOString(),
  };
}

/** The tree store's recentCheckpoints over a list, counting the pages read. */
function store(list: SignedCheckpoint[]) {
  const reads = { pages: 0 };
  return {
    reads,
    list,
    recentCheckpoints: (count: number, below = Number.MAX_SAFE_INTEGER) => {
      reads.pages++;
      return Promise.resolve(
        list
          .filter((c) => c.size < below)
          .sort((a, b) => b.size - a.size)
          .slice(0, count),
      );
    },
  };
}

describe('witnessed checkpoints', () => {
  it('counts distinct configured witnesses with valid cosignatures', () => {
    const keys = [w1.key, w2.key];
    assert.equal(cosignerCount(checkpoint(1).note, keys), 0);
    assert.equal(cosignerCount(checkpoint(1, [w1]).note, keys), 1);
    assert.equal(cosignerCount(checkpoint(1, [w1, w2]).note, keys), 2);
    assert.equal(cosignerCount(checkpoint(1, [w1, w1]).note, keys), 1);
    assert.equal(cosignerCount(checkpoint(1, [w1, w2]).note, [w2.key]), 1);
    // A cosignature of another checkpoint's text does not verify: the note counts nothing.
    const other = checkpoint(2);
    const moved =
      checkpoint(1).note + w1.cosign(other.note.slice(0, other.note.indexOf('\n\n') + 1));
    assert.equal(cosignerCount(moved, keys), 0);
    assert.equal(cosignerCount('not a note', keys), 0);
  });

  it('finds the newest with the quorum, past pages of newer ones, and keeps it until a newer one is cosigned', async () => {
    const list = [checkpoint(1, [w1, w2]), checkpoint(2, [w1])];
    for (let size = 3; size <= 120; size++) list.push(checkpoint(size, [w2]));
    const tree = store(list);
    const latest = witnessedCheckpoints(tree, { keys: [w1.key, w2.key], quorum: 2 });
    assert.equal((await latest())?.size, 1);
    assert.equal(tree.reads.pages, 3); // 120 checkpoints, 50 a page

    // One more that only one witness cosigned: the same one, read back to it.
    tree.list.push(checkpoint(121, [w1]));
    tree.reads.pages = 0;
    assert.equal((await latest())?.size, 1);
    assert.equal(tree.reads.pages, 3);

    tree.list.push(checkpoint(122, [w2, w1]));
    tree.reads.pages = 0;
    assert.equal((await latest())?.size, 122);
    assert.equal(tree.reads.pages, 1);
    tree.list.push(checkpoint(123));
    assert.equal((await latest())?.size, 122);
  });

  it('verifies a checkpoint found short again only when its note changed', async () => {
    let lookups = 0;
    const keys = new Proxy([w1.key, w2.key], {
      get(target, property, receiver) {
        if (property === 'find') lookups++; // once per cosignature line verified
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const tree = store([checkpoint(1, [w1, w2]), checkpoint(2, [w1]), checkpoint(3, [w1])]);
    const latest = witnessedCheckpoints(tree, { keys, quorum: 2 });
    assert.equal((await latest())?.size, 1);
    const first = lookups;
    assert.ok(first > 0);
    assert.equal((await latest())?.size, 1);
    assert.equal(lookups, first, 'the two short checkpoints were not verified again');

    // w2 cosigns checkpoint 3 (its note grows): counted again, and now presented.
    const three = tree.list[2] as SignedCheckpoint;
    const text = three.note.slice(0, three.note.indexOf('\n\n') + 1);
    tree.list[2] = { ...three, note: three.note + w2.cosign(text) };
    assert.equal((await latest())?.size, 3);
    assert.ok(lookups > first);
  });

  it('is undefined while no checkpoint has the quorum', async () => {
    const latest = witnessedCheckpoints(store([checkpoint(1, [w1]), checkpoint(2)]), {
      keys: [w1.key, w2.key],
      quorum: 2,
    });
    assert.equal(await latest(), undefined);
  });
});
