// Several nodes on one PostgreSQL (DESIGN.md §9): two `provenant serve` API
// nodes and two `provenant projections run` workers, each its own process,
// under a short load, while the worker leading the projections is SIGKILLed
// several times (a new worker replaces it each time). Afterwards: every
// acknowledged event is in the log exactly once, the pipeline-events read
// model holds exactly one row per stored event, every lag is back to 0, a
// write acknowledged by one node is readable at its position on the other, and
// the Merkle log (extended by whichever worker leads it) has one leaf per
// event, in order, under a checkpoint that verifies with the key and proofs
// every API node serves.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { projections } from '../../projections/index.js';
import { pipelineEventsTable } from '../../projections/pipelineEvents.js';
import { getPostgresEventStore } from '../../src/eventStore/postgres/index.js';
import { EventTypes } from '../../src/domain/events.js';
import type { RecordedEvent } from '../../src/eventStore/types.js';
import { getPostgresReadModelStore } from '../../src/readModels/postgres/index.js';
import { verifyInclusion } from '../../src/transparency/merkle.js';
import { openCheckpoint, parseVerifierKey } from '../../src/transparency/note.js';
import { getPostgresTreeStore } from '../../src/transparency/postgres/index.js';
import { eventLeafHash } from '../../src/transparency/treeBuilder.js';
import { requirePostgres, testSchema } from '../support/postgres.js';
import { cliArgs } from '../support/cli.js';

const url = requirePostgres('several nodes on postgres');

interface Node {
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
  /** What the ready pattern captured (the URL of an API node). */
  match: string;
}

function startNode(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Node> {
  const child = spawn(process.execPath, cliArgs(...args), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const node: Node = {
    child,
    log: '',
    match: '',
    exited: new Promise((resolve) =>
      child.on('exit', () => {
        clearTimeout(guard);
        resolve();
      }),
    ),
  };
  return new Promise((resolve, reject) => {
    const onData = (chunk: string): void => {
      node.log += chunk;
      const match = ready.exec(node.log);
      if (match && node.match === '') {
        node.match = match[1] ?? match[0];
        resolve(node);
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.stderr?.setEncoding('utf8').on('data', onData);
    void node.exited.then(() => reject(new Error(`${args.join(' ')} exited early: ${node.log}`)));
  });
}

if (url !== undefined)
  describe('several nodes on postgres', () => {
    const schema = testSchema(url, 'nodes');
    const dir = mkdtempSync(join(tmpdir(), 'provenant-nodes-'));
    const children: ChildProcess[] = [];
    after(() => {
      for (const c of children) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PROVENANT_STORE: 'postgres',
      PROVENANT_READ_MODELS: 'postgres',
      PROVENANT_POSTGRES_URL: url,
      PROVENANT_POSTGRES_SCHEMA: schema,
      PROVENANT_PROJECTIONS: 'off',
      PROVENANT_DATA_DIR: dir,
      PROVENANT_PORT: '0',
      PROVENANT_ATTEST_ON_STAGE_PASSED: 'false',
      PROVENANT_AUTH_ANONYMOUS: 'true',
      PROVENANT_CHECKPOINT_SECONDS: '1',
    };

    it('loses no acknowledged event and no read-model row while the leader is killed', async (t) => {
      const apis = await Promise.all(
        [0, 1].map(() => startNode(['serve'], env, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/)),
      );
      children.push(...apis.map((a) => a.child));
      const startWorker = async () => {
        const w = await startNode(['projections', 'run'], env, /projections running/);
        children.push(w.child);
        return w;
      };
      let workers: Node[] = await Promise.all([startWorker(), startWorker()]);

      const acknowledged = new Set<string>();
      let stop = false;
      const client = async (c: number): Promise<void> => {
        for (let n = 0; !stop; n++) {
          const id = `c${c}-e${n}`;
          const res = await fetch(`${apis[(c + n) % 2]!.match}/v1/events`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'ce-specversion': '1.0',
              'ce-id': id,
              'ce-source': 'https://ci.example.com/nodes-test',
              'ce-type': 'com.example.pipeline.step.finished',
            },
            body: JSON.stringify({ c, n }),
          });
          await res.arrayBuffer();
          if (res.status === 201) acknowledged.add(id);
          else assert.fail(`unexpected status ${res.status} for ${id}`);
        }
      };
      const t0 = Date.now();
      t.diagnostic(`nodes up`);
      const load = Promise.all(Array.from({ length: 6 }, (_, c) => client(c)));

      // Kill whichever worker leads, three times; a fresh worker is started in
      // its place (in the background: a standby takes over meanwhile).
      let kills = 0;
      let merkleKills = 0;
      const replacements: Promise<Node>[] = [];
      for (let round = 0; round < 3; round++) {
        await new Promise((r) => setTimeout(r, 1500));
        // The one leading the Merkle log when there is one, so that its takeover is tested too.
        const alive = workers.filter((w) => w.child.exitCode === null);
        const leader =
          alive.find((w) => /leading merkle-log/.test(w.log)) ??
          alive.find((w) => /leading projection/.test(w.log));
        if (leader === undefined) continue;
        if (/leading merkle-log/.test(leader.log)) merkleKills++;
        leader.child.kill('SIGKILL');
        await leader.exited;
        kills++;
        workers = workers.filter((w) => w !== leader);
        const next = startWorker();
        replacements.push(next);
        void next.then((w) => workers.push(w));
      }
      stop = true;
      await load.catch((error: unknown) => {
        throw new Error(
          `load failed: ${String(error)}; api logs: ${apis.map((a) => a.log.slice(-1500)).join('\n---\n')}`,
        );
      });
      t.diagnostic(`load ran ${Date.now() - t0} ms`);
      await Promise.all(replacements);
      assert.ok(kills >= 2, `killed the leader ${kills} times`);
      t.diagnostic(
        `${acknowledged.size} events acknowledged, leader killed ${kills} times (${merkleKills} leading the Merkle log)`,
      );

      const log = getPostgresEventStore({ connectionString: url, schema });
      const readModels = getPostgresReadModelStore({ connectionString: url, schema });
      const tree = getPostgresTreeStore({ connectionString: url, schema });
      try {
        // Read-your-writes across nodes: written through one node, read at its position on the other.
        const res = await fetch(`${apis[0]!.match}/v1/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'ce-specversion': '1.0',
            'ce-id': 'ryw',
            'ce-source': 'https://ci.example.com/nodes-test',
            'ce-type': 'com.example.pipeline.step.finished',
          },
          body: '{}',
        });
        assert.equal(res.status, 201);
        await res.arrayBuffer();
        acknowledged.add('ryw');
        const head = await log.headPosition();
        const read = await fetch(`${apis[1]!.match}/v1/traces/none?minPosition=${head}`);
        assert.equal(read.status, 200, await read.text());

        // Every projection catches up: lag back to 0. The head is read again after
        // the checkpoints: the Merkle leader appends CheckpointSigned events of its
        // own, so the head read above can be passed (a run saw 311 vs 310).
        const deadline = Date.now() + 20_000;
        for (;;) {
          const checkpoints = await Promise.all(
            projections.map(async (p) => (await readModels.getCheckpoint(p.name)) ?? 0n),
          );
          const now = await log.headPosition();
          if (now >= head && checkpoints.every((c) => c === now)) break;
          assert.ok(
            Date.now() < deadline,
            `lag did not return to 0: ${checkpoints.join(',')} vs ${now}`,
          );
          await new Promise((r) => setTimeout(r, 100));
        }

        // The log: every acknowledged CloudEvent exactly once.
        const stored = new Map<string, number>();
        const eventIds = new Set<string>();
        const all: RecordedEvent[] = [];
        let from: bigint | 'start' = 'start';
        for (;;) {
          const page = await log.readAll({ from, maxCount: 1000 });
          all.push(...page);
          for (const e of page) {
            const id = e.metadata.context?.id;
            if (id !== undefined) stored.set(id, (stored.get(id) ?? 0) + 1);
            if (e.type === 'PipelineEventRecorded.v1') eventIds.add(e.id);
          }
          if (page.length < 1000) break;
          from = page.at(-1)!.position;
        }
        assert.deepEqual(
          [...acknowledged].filter((id) => !stored.has(id)),
          [],
          'acknowledged events lost',
        );
        assert.ok(
          [...stored.values()].every((n) => n === 1),
          'an event is stored twice',
        );
        assert.equal((await log.verifyAll()).ok, true);

        // The read model: one row per stored event, none missing, none extra.
        const rows = (await readModels.find(pipelineEventsTable)).rows;
        assert.equal(rows.length, eventIds.size);
        assert.deepEqual(new Set(rows.map((r) => r.eventId)), eventIds);

        // The Merkle log: one leaf per event of the log, in order, whoever led it.
        const lastReal = all.findLastIndex((e) => e.type !== EventTypes.CheckpointSigned) + 1;
        const treeDeadline = Date.now() + 20_000;
        while (((await tree.latestCheckpoint())?.size ?? 0) < lastReal) {
          assert.ok(Date.now() < treeDeadline, 'no checkpoint covers the log');
          await new Promise((r) => setTimeout(r, 100));
        }
        const leaves = await tree.leaves(0, all.length);
        assert.equal(leaves.length, all.length, 'one leaf per event');
        leaves.forEach((leaf, i) => {
          assert.equal(leaf.position, all[i]!.position);
          assert.deepEqual(leaf.hash, eventLeafHash(all[i]!));
        });
        // Every API node serves the same signed checkpoint, key and proofs, which verify.
        const key = (await (await fetch(`${apis[0]!.match}/v1/log/key`)).json()) as {
          verifierKey: string;
        };
        const note = await (await fetch(`${apis[1]!.match}/v1/log/checkpoint`)).text();
        const checkpoint = openCheckpoint(note, [parseVerifierKey(key.verifierKey)]);
        assert.ok(checkpoint.size >= lastReal);
        const event = all[Math.floor(lastReal / 2)]!;
        const proof = (await (
          await fetch(`${apis[0]!.match}/v1/log/proof/inclusion?position=${event.position}`)
        ).json()) as { leafIndex: number; treeSize: number; proof: string[] };
        assert.equal(proof.treeSize, checkpoint.size);
        assert.equal(
          verifyInclusion(
            proof.leafIndex,
            proof.treeSize,
            eventLeafHash(event),
            proof.proof.map((p) => Buffer.from(p, 'base64')),
            checkpoint.root,
          ),
          undefined,
        );
        // `provenant log verify` walks the PostgreSQL log against the shared tree and its checkpoints.
        const verify = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
          const child = execFile(
            process.execPath,
            cliArgs('log', 'verify', '--json'),
            { env },
            (_error, stdout) => resolve({ code: child.exitCode, stdout }),
          );
        });
        const report = JSON.parse(verify.stdout) as { ok: boolean; checkpointsChecked: number };
        assert.equal(verify.code, 0, verify.stdout);
        assert.equal(report.ok, true);
        assert.ok(report.checkpointsChecked >= 1);
      } finally {
        await tree.close();
        await log.close();
        await readModels.close();
        for (const c of children) c.kill('SIGTERM');
      }
    });
  });
