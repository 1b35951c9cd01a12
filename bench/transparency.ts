// `npm run bench -- transparency`: the Merkle log (issue 16 §7).
//
// - Leaf appends (`appendPerSec`, target >= 200,000/s): leaves committed to the
//   SQLite tree store in batches of 1,000, each from its leaf bytes (the ~1.3 KB
//   canonical JSON of a ~1 KiB stored event): the leaf hash, the tree append and
//   the subtrees it completes, the row and its index entry, the commit. Encoding
//   the stored record (`leafEncodePerSec`), the in-memory part alone
//   (`memoryAppendPerSec`) and the whole path from stored events through the
//   tree builder (`storedAppendPerSec`) are informative. `appendCpuPerSec` is
//   the same appends per second of CPU time (process.cpuUsage), steadier than
//   wall-clock time on a loaded machine.
// - Inclusion proofs at 1,000,000 leaves × scale, read from the SQLite tree
//   store (`proofMs`: mean per proof over 2,000 random leaves, target < 1 ms).
// - `log verify` over a log of 100,000 events × scale (digests, chains, leaves
//   against the tree store, the root at a checkpoint) ÷ a raw read of the same
//   rows + SHA-256 of each row's text in the same run (`verifyRatio`, target >=
//   0.5; `verifyCpuRatio` is the same ratio in CPU time).
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase } from '../src/eventStore/sqlite/database.js';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import type { RecordedEvent } from '../src/eventStore/types.js';
import { CompactRange } from '../src/transparency/compactRange.js';
import { signCheckpoint } from '../src/transparency/follower.js';
import { inclusionProof, leafHash } from '../src/transparency/merkle.js';
import { noteSigner, parseVerifierKey } from '../src/transparency/note.js';
import type { AppendedLeaf } from '../src/transparency/port.js';
import { getSQLiteTreeStore } from '../src/transparency/sqlite/treeStore.js';
import { TreeBuilder, leafText } from '../src/transparency/treeBuilder.js';
import { verifyLog } from '../src/transparency/verifyLog.js';
import {
  fmtRate,
  fmtRatio,
  printTable,
  sampleEvent,
  scaled,
  tempDir,
  timed,
  type BenchContext,
} from './support.js';
import { createHash } from 'node:crypto';

const cpuSeconds = ({ user, system }: NodeJS.CpuUsage): number => (user + system) / 1e6;

/** A stored event as the port returns it, ~1 KiB. */
const storedEvent = (i: number): RecordedEvent => ({
  id: `01J${String(i).padStart(23, '0')}`,
  type: 'ReceiptRecorded.v1',
  stream: `unit-${i % 1000}`,
  revision: Math.floor(i / 1000),
  position: BigInt(i + 1),
  recordedAt: '2026-12-06T23:00:00.000Z',
  data: sampleEvent(i),
  metadata: {
    principal: 'producer',
    correlationId: `c-${i}`,
    contentDigest: 'a'.repeat(64),
    prevDigest: 'b'.repeat(64),
  },
});

export async function benchTransparency(ctx: BenchContext): Promise<Record<string, number>> {
  const tmp = tempDir('transparency');
  try {
    // 1. Leaf appends into the tree store, then apart: in memory, encoding, from events.
    const n = scaled(ctx, 200_000, 1000);
    const events = Array.from({ length: 1000 }, (_, i) => storedEvent(i));
    const texts = events.map((e) => leafText(e));
    const appendStore = getSQLiteTreeStore({ path: join(tmp.dir, 'leaves-merkle.db') });
    const appendRange = new CompactRange();
    const appendCpu = process.cpuUsage();
    const appendRun = await timed(async () => {
      for (let at = 0; at < n; at += 1000) {
        const batch: AppendedLeaf[] = [];
        for (let i = at; i < Math.min(n, at + 1000); i++) {
          const hash = leafHash(texts[i % 1000] as string);
          const completed = appendRange.append(hash);
          batch.push({ index: i, position: BigInt(i + 1), eventId: `e${i}`, hash, completed });
        }
        await appendStore.append(batch);
      }
    });
    const appendCpuSeconds = cpuSeconds(process.cpuUsage(appendCpu));
    await appendStore.close();
    const appendPerSec = n / appendRun.seconds;
    const appendCpuPerSec = n / appendCpuSeconds;

    const range = new CompactRange();
    const memory = await timed(() => {
      for (let i = 0; i < n; i++) range.append(leafHash(texts[i % 1000] as string));
    });
    const memoryAppendPerSec = n / memory.seconds;
    // Encoding the stored record (canonical JSON) is measured apart: informative.
    const encode = await timed(() => {
      for (let i = 0; i < n / 10; i++) leafText(events[i % 1000] as RecordedEvent);
    });
    const leafEncodePerSec = n / 10 / encode.seconds;

    const stored = getSQLiteTreeStore({ path: join(tmp.dir, 'append-merkle.db') });
    const builder = await TreeBuilder.open(stored);
    const storedN = scaled(ctx, 100_000, 1000);
    const storedRun = await timed(async () => {
      for (let at = 0; at < storedN; at += 1000)
        await builder.append(
          Array.from({ length: 1000 }, (_, i) => ({
            ...(events[i] as RecordedEvent),
            position: BigInt(at + i + 1),
            id: `e${at + i}`,
          })),
        );
    });
    const storedAppendPerSec = storedN / storedRun.seconds;
    await stored.close();

    // 2. Inclusion proofs at a million leaves (synthetic leaf hashes, committed in batches).
    const leaves = scaled(ctx, 1_000_000, 1000);
    const big = getSQLiteTreeStore({ path: join(tmp.dir, 'proof-merkle.db') });
    const bigRange = new CompactRange();
    const fill = await timed(async () => {
      for (let at = 0; at < leaves; at += 10_000) {
        const batch: AppendedLeaf[] = [];
        for (let i = at; i < Math.min(leaves, at + 10_000); i++) {
          const hash = createHash('sha256').update(String(i)).digest();
          const completed = bigRange.append(hash);
          batch.push({ index: i, position: BigInt(i + 1), eventId: `e${i}`, hash, completed });
        }
        await big.append(batch);
      }
    });
    const PROOFS = 2000;
    const proofRun = await timed(async () => {
      for (let k = 0; k < PROOFS; k++) {
        const index = Math.floor(Math.random() * leaves);
        await inclusionProof(index, leaves, big.readNodes);
      }
    });
    const proofMs = (proofRun.seconds * 1000) / PROOFS;
    await big.close();

    // 3. log verify against a raw read + SHA-256 of the same rows.
    const logN = scaled(ctx, 100_000, 1000);
    const logPath = join(tmp.dir, 'log.db');
    const store = getSQLiteEventStore({ path: logPath, synchronous: 'NORMAL' });
    for (let at = 0; at < logN; at += 100)
      await store.append(
        `unit-${(at / 100) % 500}`,
        Array.from({ length: Math.min(100, logN - at) }, (_, i) => ({
          type: 'ReceiptRecorded.v1',
          data: sampleEvent(at + i),
          metadata: { principal: 'p' },
        })),
      );
    const tree = getSQLiteTreeStore({ path: join(tmp.dir, 'log-merkle.db') });
    const signer = noteSigner('bench/log', generateKeyPairSync('ed25519').privateKey);
    const logBuilder = await TreeBuilder.open(tree);
    await logBuilder.catchUp(store);
    await signCheckpoint(logBuilder, { eventStore: store, tree, signer, origin: 'bench/log' });
    const verifyCpu = process.cpuUsage();
    const verify = await timed(() =>
      verifyLog({ eventStore: store, tree, verifiers: [parseVerifierKey(signer.verifierKey)] }),
    );
    const verifyCpuSeconds = cpuSeconds(process.cpuUsage(verifyCpu));
    if (!verify.value.ok)
      throw new Error(`log verify found problems: ${JSON.stringify(verify.value.problems[0])}`);
    const verifyPerSec = verify.value.events / verify.seconds;
    await tree.close();
    await store.close();
    const raw = openDatabase(logPath, { readonly: true });
    const rawCpu = process.cpuUsage();
    const rawRun = await timed(() => {
      let count = 0;
      for (const row of raw
        .prepare<[], { data: string; metadata: string }>('SELECT * FROM events ORDER BY position')
        .iterate()) {
        createHash('sha256').update(row.data).update(row.metadata).digest();
        count++;
      }
      return count;
    });
    const rawCpuSeconds = cpuSeconds(process.cpuUsage(rawCpu));
    raw.close();
    const rawPerSec = rawRun.value / rawRun.seconds;
    const verifyCpuRatio = verify.value.events / verifyCpuSeconds / (rawRun.value / rawCpuSeconds);

    const figures = {
      appendPerSec,
      appendCpuPerSec,
      memoryAppendPerSec,
      leafEncodePerSec,
      storedAppendPerSec,
      proofLeaves: leaves,
      proofMs,
      treeFillSeconds: fill.seconds,
      verifyEvents: verify.value.events,
      verifyPerSec,
      rawReadHashPerSec: rawPerSec,
      verifyRatio: verifyPerSec / rawPerSec,
      verifyCpuRatio,
    };
    printTable(ctx, 'transparency (Merkle log)', [
      [
        'appendPerSec (leaf hash + tree append + SQLite commit, 1,000/batch)',
        `${fmtRate(appendPerSec)} (target >= 200,000); ${fmtRate(appendCpuPerSec)} of CPU time`,
      ],
      ['memoryAppendPerSec (leaf hash + tree append, memory)', fmtRate(memoryAppendPerSec)],
      ['leafEncodePerSec (canonical JSON, ~1 KiB)', fmtRate(leafEncodePerSec)],
      ['storedAppendPerSec (encode + hash + SQLite, 1,000/batch)', fmtRate(storedAppendPerSec)],
      [
        `proofMs at ${leaves.toLocaleString('en-US')} leaves`,
        `${proofMs.toFixed(3)} ms (target < 1 ms); fill ${fill.seconds.toFixed(1)} s`,
      ],
      [`log verify (${verify.value.events.toLocaleString('en-US')} events)`, fmtRate(verifyPerSec)],
      ['raw read + SHA-256', fmtRate(rawPerSec)],
      ['verifyRatio', fmtRatio(figures.verifyRatio, 0.5)],
      ['verifyCpuRatio (CPU time)', fmtRatio(verifyCpuRatio, 0.5)],
    ]);
    return figures;
  } finally {
    tmp.dispose();
  }
}
