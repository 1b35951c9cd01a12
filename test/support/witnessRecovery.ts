// The witness-size recovery scenario both event stores are held to
// (tlogWitnesses.int and postgresWitnesses.int): a witness's last cosigned size
// is found by origin and key past pages of other checkpoint events.
import assert from 'node:assert/strict';
import { CHECKPOINT_STREAM, checkpointCosigned } from '../../src/domain/events.js';
import type { EventStore } from '../../src/eventStore/types.js';
import { lastCosigned } from '../../src/transparency/witness/index.js';

/** A `CheckpointCosigned.v1` of `treeSize` by `witnessKey` (only what recovery reads is real). */
export const cosignedEvent = (treeSize: number, witnessKey: string, origin: string) =>
  checkpointCosigned({
    origin,
    treeSize,
    rootHash: '',
    witness: witnessKey,
    keyId: '',
    witnessKey,
    timestamp: 0,
    signature: '',
    cosignature: '',
  });

/**
 * On an empty store: k1 and k2 cosign sizes 5 and 6 of `origin`, then 450
 * events by others follow (three pages of 200 read backwards); each witness's
 * size is found by origin and key, and 0 for a key that never cosigned.
 */
export async function assertRecoveryPastPages(store: EventStore, origin: string): Promise<void> {
  assert.equal(await lastCosigned(store, origin, ['k1']), 0); // no $checkpoints yet
  await store.append(CHECKPOINT_STREAM, [
    cosignedEvent(5, 'k1', origin),
    cosignedEvent(6, 'k2', origin),
  ]);
  for (let i = 0; i < 3; i++)
    await store.append(
      CHECKPOINT_STREAM,
      Array.from({ length: 150 }, (_, j) =>
        j % 2 === 0
          ? cosignedEvent(100 + j, 'k2', origin)
          : cosignedEvent(100 + j, 'k1', 'other.test/log'),
      ),
    );
  assert.equal(await lastCosigned(store, origin, ['k1']), 5);
  assert.equal(await lastCosigned(store, origin, ['k0', 'k1']), 5);
  assert.equal(await lastCosigned(store, origin, ['k2']), 248);
  // A witness that never cosigned: every page is read, down to revision 0.
  assert.equal(await lastCosigned(store, origin, ['k3']), 0);
  assert.equal(await lastCosigned(store, 'other.test/log', ['k1']), 249);
}
