// The Merkle log checks of `provenant verify` on a source held in memory: a
// receipt newer than the checkpoint is a note, not a failure; an attestation
// naming no checkpoint is a note, or could-not-check when a key was given; a
// receipt whose attested digest differs is a wrong leaf; a source that cannot
// be asked is could-not-check.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { EventTypes } from '../../domain/events.js';
import type { RecordedEvent } from '../../eventStore/types.js';
import { inclusionProof, nodeHash, type NodeId } from '../../transparency/merkle.js';
import { checkpointText, noteSigner, signNote } from '../../transparency/note.js';
import { eventLeafHash } from '../../transparency/treeBuilder.js';
import { checkLogInclusions, type LogSource, type LogVerification } from './logChecks.js';

const ORIGIN = 'unit.example/log';
const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);

const receiptEvent = (receiptId: string, position: number): RecordedEvent => ({
  id: `01J${String(position).padStart(23, '0')}`,
  type: EventTypes.ReceiptRecorded,
  stream: 'unit-a/1/1/x86_64/rpm',
  revision: position - 1,
  position: BigInt(position),
  recordedAt: '2026-12-07T00:00:00.000Z',
  data: { receiptId, unit: 'a/1/1/x86_64/rpm', action: 'build', multipass: true },
  metadata: { contentDigest: 'sha256:x', prevDigest: 'sha256:y' },
});
const events = [receiptEvent('A', 1), receiptEvent('B', 2), receiptEvent('C', 3)];
const leaves = events.map(eventLeafHash);

/** MTH of leaves [start, end), by the RFC's recursion. */
const mth = (start: number, end: number): Buffer => {
  if (end - start === 1) return leaves[start] as Buffer;
  let k = 1;
  while (k * 2 < end - start) k *= 2;
  return nodeHash(mth(start, start + k), mth(start + k, end));
};
const read = (ids: readonly NodeId[]) =>
  Promise.resolve(ids.map(({ level, index }) => mth(index << level, (index + 1) << level)));

/** A source whose checkpoint covers all three events and names a leaf for `named` only. */
function source(named: Record<string, number>): LogSource {
  const note = signNote(checkpointText({ origin: ORIGIN, size: 3, root: mth(0, 3) }), signer);
  return {
    name: 'the test source',
    anchor: () => Promise.resolve({ checkpoint: note, leaves: new Map(Object.entries(named)) }),
    verifierKey: () => Promise.resolve(signer.verifierKey),
    inclusion: async (leafIndex, treeSize) => ({
      proof: (await inclusionProof(leafIndex, treeSize, read)).map((p) => p.toString('base64')),
      event: events[leafIndex] as RecordedEvent,
    }),
  };
}

async function run(log: LogVerification, receipts: { receiptId: string; digest?: string }[]) {
  const checks: string[] = [];
  const notes: string[] = [];
  await checkLogInclusions(log, { statementDigest: 'ab' }, receipts, {
    pass: (name) => checks.push(`${name} passed`),
    fail: (name, code) => checks.push(`${name} failed ${code}`),
    couldNotCheck: (name, code) => checks.push(`${name} could-not-check ${code}`),
    note: (message) => notes.push(message),
  });
  return { checks, notes };
}

const trustedKey = { key: signer.verifierKey, from: 'from the test' };

describe('checkLogInclusions', () => {
  it('checks the named leaves and notes a receipt newer than the checkpoint', async () => {
    const { checks, notes } = await run({ source: source({ A: 0 }), trustedKey }, [
      { receiptId: 'A' },
      { receiptId: 'B' },
    ]);
    assert.deepEqual(checks, ['log-checkpoint passed', 'log-inclusion passed']);
    assert.deepEqual(notes.length, 1);
    assert.match(notes[0] ?? '', /receipt\(s\) B not yet under the checkpoint/);
  });

  it('fails a leaf that holds another receipt, or the receipt with another digest', async () => {
    const swapped = await run({ source: source({ A: 1 }), trustedKey }, [{ receiptId: 'A' }]);
    assert.deepEqual(swapped.checks, [
      'log-checkpoint passed',
      'log-inclusion failed VERIFY_LOG_WRONG_LEAF',
    ]);
    const digest = await run({ source: source({ A: 0 }), trustedKey }, [
      { receiptId: 'A', digest: '0'.repeat(64) },
    ]);
    assert.deepEqual(digest.checks, [
      'log-checkpoint passed',
      'log-inclusion failed VERIFY_LOG_WRONG_LEAF',
    ]);
  });

  it('an attestation naming no checkpoint: a note, or could-not-check with a trusted key', async () => {
    const none: LogSource = { ...source({}), anchor: () => Promise.resolve('names no checkpoint') };
    const quiet = await run({ source: none }, [{ receiptId: 'A' }]);
    assert.deepEqual(quiet.checks, []);
    assert.match(
      quiet.notes[0] ?? '',
      /names no checkpoint: inclusion in the Merkle log not checked/,
    );
    const asked = await run({ source: none, trustedKey }, [{ receiptId: 'A' }]);
    assert.deepEqual(asked.checks, ['log-checkpoint could-not-check VERIFY_LOG_NOT_RECORDED']);
  });

  it('a source that cannot be asked is could-not-check', async () => {
    const down: LogSource = {
      ...source({ A: 0 }),
      inclusion: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const { checks } = await run({ source: down, trustedKey }, [{ receiptId: 'A' }]);
    assert.deepEqual(checks, [
      'log-checkpoint passed',
      'log-inclusion could-not-check VERIFY_STORE_UNREACHABLE',
    ]);
  });
});
