// The Merkle log over HTTP: a follower keeps it current and signs checkpoints
// (every N events, and not for its own checkpoints alone); the /v1/log routes
// serve the checkpoint, the key and proofs that verify; bad requests are
// problem+json 4xx with TLOG_* codes.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { EventTypes } from '../../src/domain/events.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import {
  createTransparencyFollower,
  type TransparencyFollower,
} from '../../src/transparency/follower.js';
import { verifyConsistency, verifyInclusion } from '../../src/transparency/merkle.js';
import { noteSigner, openCheckpoint, parseVerifierKey } from '../../src/transparency/note.js';
import type { TreeStore } from '../../src/transparency/port.js';
import { createTransparencyService } from '../../src/transparency/service.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { TreeBuilder } from '../../src/transparency/treeBuilder.js';
import { anonymousAuth } from '../../src/security/index.js';

const ORIGIN = 'http.example/log';
const b = (s: string): Buffer => Buffer.from(s, 'base64');

let debugState: () => Promise<string> = () => Promise.resolve('');

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}${await debugState()}`);
}

describe('/v1/log: checkpoints and proofs', () => {
  let store: SQLiteEventStore;
  let tree: TreeStore;
  let follower: TransparencyFollower;
  let app: FastifyInstance;
  const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);

  before(async () => {
    store = getSQLiteEventStore({ path: ':memory:' });
    tree = getSQLiteTreeStore({ path: ':memory:' });
    follower = createTransparencyFollower({
      eventStore: store,
      tree,
      signer,
      origin: ORIGIN,
      every: 5,
      intervalMs: 60_000,
      log: (level, message, fields) => {
        if (level === 'error') console.error(message, fields);
      },
    });
    await follower.start();
    debugState = async () =>
      ` (tree ${(await tree.state()).size}, head ${await store.headPosition()}, checkpoints ${(await tree.checkpoints()).map((c) => c.size).join(',')})`;
    for (let i = 0; i < 20; i++)
      await store.append(`unit-${i % 3}`, [{ type: 'T.v1', data: { i } }]);
    // However the events were batched, fewer than 5 are left unsigned.
    await until(async () => ((await tree.latestCheckpoint())?.size ?? 0) >= 16, 'a checkpoint');
    await follower.stop();
    // The last checkpoint events become leaves too.
    await (await TreeBuilder.open(tree)).catchUp(store);
    const service = createTransparencyService({
      tree,
      origin: ORIGIN,
      verifierKey: signer.verifierKey,
    });
    app = await buildApp({
      auth: anonymousAuth(),
      store,
      storeDescription: 'sqlite :memory:',
      transparency: service,
    });
  });
  after(async () => {
    await app.close();
    await tree.close();
    await store.close();
  });

  it('signs every N events (its own checkpoints not counted) and appends CheckpointSigned', async () => {
    const checkpoints = await tree.checkpoints();
    const events = await store.readAll({ filter: { eventTypePrefix: ['CheckpointSigned.'] } });
    assert.ok(checkpoints.length >= 1);
    assert.deepEqual(
      events.map((e) => [e.type, e.stream, (e.data as { treeSize: number }).treeSize]),
      checkpoints.map((c) => [EventTypes.CheckpointSigned, '$checkpoints', c.size]),
    );
    // Between two checkpoints, at least 5 events that are not checkpoints.
    let previous = 0;
    for (const c of checkpoints) {
      const own = events.filter(
        (e) => e.position > BigInt(previous) && e.position <= BigInt(c.size),
      );
      assert.ok(c.size - previous - own.length >= 5, `checkpoint ${c.size} after ${previous}`);
      previous = c.size;
    }
  });

  it('serves the checkpoint as a signed note the key verifies', async () => {
    const key = await app.inject('/v1/log/key');
    assert.equal(key.statusCode, 200);
    assert.deepEqual(key.json(), {
      origin: ORIGIN,
      verifierKey: signer.verifierKey,
      rotations: [],
    });
    const res = await app.inject('/v1/log/checkpoint');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const checkpoint = openCheckpoint(res.body, [
      parseVerifierKey(key.json<{ verifierKey: string }>().verifierKey),
    ]);
    assert.equal(checkpoint.origin, ORIGIN);
    assert.equal(checkpoint.size, (await tree.latestCheckpoint())?.size);
  });

  it('serves inclusion and consistency proofs that verify', async () => {
    const res = await app.inject({ url: '/v1/log/proof/inclusion', query: { position: '7' } });
    assert.equal(res.statusCode, 200);
    const p = res.json<{
      leafIndex: number;
      treeSize: number;
      leafHash: string;
      rootHash: string;
      proof: string[];
      checkpoint: string;
    }>();
    const latest = (await tree.latestCheckpoint())?.size ?? 0;
    assert.equal(p.treeSize, latest);
    assert.equal(
      verifyInclusion(p.leafIndex, p.treeSize, b(p.leafHash), p.proof.map(b), b(p.rootHash)),
      undefined,
    );
    assert.equal(
      openCheckpoint(p.checkpoint, [parseVerifierKey(signer.verifierKey)]).root.toString('base64'),
      p.rootHash,
    );
    const byLeaf = await app.inject({
      url: '/v1/log/proof/inclusion',
      query: { leafIndex: String(p.leafIndex) },
    });
    assert.equal(byLeaf.statusCode, 200);
    assert.deepEqual(byLeaf.json(), p, 'a leaf index names the same proof as its position');
    const c = await app.inject({
      url: '/v1/log/proof/consistency',
      query: { from: '5', to: String(latest) },
    });
    assert.equal(c.statusCode, 200);
    const cp = c.json<{ fromRoot: string; toRoot: string; proof: string[] }>();
    assert.equal(cp.toRoot, p.rootHash);
    assert.equal(
      verifyConsistency(5, latest, cp.proof.map(b), b(cp.fromRoot), b(cp.toRoot)),
      undefined,
    );
    const [first] = await tree.checkpoints();
    const fromFirst = await app.inject({
      url: '/v1/log/proof/consistency',
      query: { from: String(first?.size) },
    });
    assert.equal(fromFirst.json<{ fromRoot: string }>().fromRoot, first?.root.toString('base64'));
  });

  it('answers bad proof requests with problem+json, never a crash', async () => {
    const cases: [Record<string, string>, string, number, string][] = [
      [{ position: '7', treeSize: '0' }, 'inclusion', 400, 'TLOG_PROOF_RANGE'],
      [{ position: '7', treeSize: '999' }, 'inclusion', 400, 'TLOG_PROOF_RANGE'],
      [{ position: '9', treeSize: '5' }, 'inclusion', 400, 'TLOG_PROOF_RANGE'],
      [{ position: '7', treeSize: '99999999999' }, 'inclusion', 400, 'TLOG_PROOF_RANGE'],
      [{ position: '9999' }, 'inclusion', 404, 'TLOG_LEAF_NOT_FOUND'],
      [{ position: 'x' }, 'inclusion', 400, 'HTTP_VALIDATION'],
      [{ leafIndex: '9999' }, 'inclusion', 404, 'TLOG_LEAF_NOT_FOUND'],
      [{ position: '7', leafIndex: '0' }, 'inclusion', 400, 'HTTP_BAD_REQUEST'],
      [{}, 'inclusion', 400, 'HTTP_BAD_REQUEST'],
      [{ from: '0', to: '5' }, 'consistency', 400, 'TLOG_PROOF_RANGE'],
      [{ from: '9', to: '5' }, 'consistency', 400, 'TLOG_PROOF_RANGE'],
      [{ from: '5', to: '99' }, 'consistency', 400, 'TLOG_PROOF_RANGE'],
    ];
    for (const [query, kind, status, code] of cases) {
      const res = await app.inject({ url: `/v1/log/proof/${kind}`, query });
      assert.equal(res.statusCode, status, `${kind} ${JSON.stringify(query)}: ${res.body}`);
      assert.match(String(res.headers['content-type']), /application\/problem\+json/);
      assert.equal(res.json<{ code: string }>().code, code);
    }
  });

  it('answers 503 where the Merkle log is not held, and 404 before a first checkpoint', async () => {
    const bare = await buildApp({
      auth: anonymousAuth(),
      store,
      storeDescription: 'x',
    });
    const res = await bare.inject('/v1/log/checkpoint');
    assert.equal(res.statusCode, 503);
    assert.equal(res.json<{ code: string }>().code, 'TLOG_NOT_AVAILABLE');
    await bare.close();
    const empty = getSQLiteTreeStore({ path: ':memory:' });
    const fresh = await buildApp({
      auth: anonymousAuth(),
      store,
      storeDescription: 'x',
      transparency: createTransparencyService({
        tree: empty,
        origin: ORIGIN,
        verifierKey: signer.verifierKey,
      }),
    });
    const none = await fresh.inject('/v1/log/checkpoint');
    assert.equal(none.statusCode, 404);
    assert.equal(none.json<{ code: string }>().code, 'TLOG_NO_CHECKPOINT');
    await fresh.close();
    await empty.close();
  });
});
