// The witness copy posted to a URL: a loopback witness (node:http) receives each
// checkpoint note as text/plain; a witness that is down or failing is retried,
// its failures counted (and served as a metric) while the follower goes on
// signing; a later checkpoint reaches it once it is back.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { getSQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import { createTransparencyFollower } from '../../src/transparency/follower.js';
import { noteSigner } from '../../src/transparency/note.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import type { WitnessTarget } from '../../src/transparency/witness/index.js';

const ORIGIN = 'witness.example/log';

interface Witness {
  url: string;
  received: { contentType: string | undefined; body: string }[];
  /** The status it answers with. */
  status: number;
  server: Server;
}

async function witness(): Promise<Witness> {
  const w: Witness = { url: '', received: [], status: 200, server: createServer() };
  w.server.on('request', (request: IncomingMessage, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      if (w.status < 300 && request.method === 'POST')
        w.received.push({ contentType: request.headers['content-type'], body });
      response.writeHead(w.status).end();
    });
  });
  await new Promise<void>((resolve) => w.server.listen(0, '127.0.0.1', resolve));
  const address = w.server.address();
  w.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/checkpoints`;
  return w;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function setup(witnessUrl: string, more: WitnessTarget[] = []) {
  const store = getSQLiteEventStore({ path: ':memory:' });
  const tree = getSQLiteTreeStore({ path: ':memory:' });
  /** What the follower logged, each entry as JSON. */
  const logged: string[] = [];
  const follower = createTransparencyFollower({
    eventStore: store,
    tree,
    signer: noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey),
    origin: ORIGIN,
    every: 3,
    intervalMs: 60_000,
    witnessUrl,
    witnesses: more,
    witnessTimeoutMs: 500,
    witnessBackoffMs: 10,
    log: (...entry: unknown[]) => void logged.push(JSON.stringify(entry)),
  });
  let i = 0;
  const append = async (n: number): Promise<void> => {
    for (let k = 0; k < n; k++)
      await store.append(`s-${i % 2}`, [{ type: 'T.v1', data: { i: i++ } }]);
  };
  const close = async (): Promise<void> => {
    await follower.stop();
    await tree.close();
    await store.close();
  };
  return { store, tree, follower, append, close, logged };
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

describe('checkpoint witness URL', () => {
  it('posts each checkpoint note as text/plain to the witness', async () => {
    const w = await witness();
    servers.push(w.server);
    const s = setup(w.url);
    await s.follower.start();
    await s.append(3);
    await until(() => w.received.length > 0, 'a post');
    const latest = await s.tree.latestCheckpoint();
    assert.ok(latest);
    await until(() => w.received.at(-1)?.body === latest.note, 'the latest note');
    assert.match(w.received[0]?.contentType ?? '', /^text\/plain/);
    assert.match(w.received[0]?.body ?? '', new RegExp(`^${ORIGIN}\\n\\d+\\n.+\\n\\n— ${ORIGIN} `));
    assert.equal(s.follower.witness()?.failed, 0);
    await s.close();
  });

  it('counts and serves each witness by its own name, never with its credentials or query', async () => {
    const good = await witness();
    const bad = await witness();
    servers.push(good.server, bad.server);
    bad.status = 400; // refused at once: not retried
    // A token in the query reaches the witness; userinfo is refused by fetch (a failure too).
    const withToken = `${good.url}?token=t0ken#f`;
    const withUser = bad.url.replace('http://', 'http://operator:s3cret@');
    const s = setup(withToken, [{ url: withUser, protocol: 'post', keys: [] }]);
    after(() => s.close());
    await s.follower.start();
    await s.append(3);
    await until(() => good.received.length >= 1, 'a post to the good witness');
    await until(() => s.follower.witnesses()[1]?.stats.failed === 1, 'a failure counted');
    assert.deepEqual(s.follower.witnesses(), [
      { witness: good.url, stats: { posted: 1, failed: 0, superseded: 0 } },
      { witness: bad.url, stats: { posted: 0, failed: 1, superseded: 0 } },
    ]);
    const app = await buildApp({
      auth: anonymousAuth(),
      store: s.store,
      storeDescription: 'x',
      witnessStatus: () => s.follower.witnesses(),
    });
    const body = (await app.inject('/metrics')).body;
    await app.close();
    const lines = body.split('\n').filter((l) => l.startsWith('provenant_checkpoint_witness_'));
    const series = (url: string, outcome: string, n: number) =>
      `provenant_checkpoint_witness_posts_total{witness="${url}",outcome="${outcome}"} ${n}`;
    assert.deepEqual(
      lines.sort(),
      [
        series(bad.url, 'failed', 1),
        series(bad.url, 'posted', 0),
        series(bad.url, 'superseded', 0),
        series(good.url, 'failed', 0),
        series(good.url, 'posted', 1),
        series(good.url, 'superseded', 0),
      ].sort(),
    );
    assert.doesNotMatch(body, /s3cret|operator|t0ken/);
    // The failure is logged under the same name, without the credentials either.
    assert.ok(
      s.logged.some((entry) => entry.includes(bad.url)),
      'the failure is logged by name',
    );
    assert.doesNotMatch(s.logged.join('\n'), /s3cret|operator|t0ken/);
  });

  it('a witness that is down: failures counted, the follower goes on; a later checkpoint gets through', async () => {
    const w = await witness();
    servers.push(w.server);
    w.status = 503;
    const s = setup(w.url);
    await s.follower.start();
    await s.append(3);
    await until(() => (s.follower.witness()?.failed ?? 0) >= 1, 'a counted failure');
    assert.equal(w.received.length, 0);
    // The follower kept following and signs again.
    await s.append(3);
    await until(
      async () => ((await s.tree.latestCheckpoint())?.size ?? 0) >= 7,
      'a second checkpoint',
    );

    // Refused connections (nothing listens) count too, and are served as a metric.
    const closed = await witness();
    await new Promise((resolve) => closed.server.close(resolve));
    const down = setup(closed.url);
    await down.follower.start();
    await down.append(3);
    await until(() => (down.follower.witness()?.failed ?? 0) >= 1, 'a refused post counted');
    const app = await buildApp({
      auth: anonymousAuth(),
      store: down.store,
      storeDescription: 'x',
      witnessStatus: () => down.follower.witnesses(),
    });
    const metrics = await app.inject('/metrics');
    assert.match(
      metrics.body,
      new RegExp(
        `provenant_checkpoint_witness_posts_total\\{witness="${closed.url}",outcome="failed"\\} [1-9]`,
      ),
      metrics.body.slice(0, 200),
    );
    await app.close();
    await down.close();

    // Back up: the next checkpoint (which covers the failed one's tree) reaches it.
    w.status = 200;
    await s.append(3);
    const latest = async () => (await s.tree.latestCheckpoint())?.note;
    await until(async () => w.received.at(-1)?.body === (await latest()), 'the latest note');
    // The witness keeps a note before it answers; the post counts once the answer is read.
    await until(() => (s.follower.witness()?.posted ?? 0) >= 1, 'a counted post');
    await s.close();
  });

  it('is configured by PROVENANT_CHECKPOINT_WITNESS_URL, an http(s) URL', () => {
    const env = { PROVENANT_CHECKPOINT_WITNESS_URL: 'https://witness.example/provenant' };
    assert.equal(
      loadConfig(env, '/tmp').transparency.witnesses[0]?.url,
      env.PROVENANT_CHECKPOINT_WITNESS_URL,
    );
    assert.deepEqual(loadConfig({}, '/tmp').transparency.witnesses, []);
    assert.throws(
      () => loadConfig({ PROVENANT_CHECKPOINT_WITNESS_URL: 'ftp://witness.example' }, '/tmp'),
      /CHECKPOINT_WITNESS_URL.*http\(s\) URL/,
    );
  });
});
