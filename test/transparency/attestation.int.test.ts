// Attestations name the Merkle log's latest checkpoint and the leaf index of
// each receipt they rely on; each such leaf is provably the receipt's event
// under that checkpoint.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { createAttestationService } from '../../src/application/attestations/index.js';
import type { AttestationIssuedData } from '../../src/domain/events.js';
import { generateSigningKeyPair } from '../../src/provenance/signing/index.js';
import { verifyInclusion } from '../../src/transparency/merkle.js';
import { noteSigner, openCheckpoint, parseVerifierKey } from '../../src/transparency/note.js';
import { createTransparencyService } from '../../src/transparency/service.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { signCheckpoint } from '../../src/transparency/follower.js';
import { TreeBuilder } from '../../src/transparency/treeBuilder.js';
import { UNIT, fixture, passRelease, signingOf } from '../support/attestations.js';

describe('attestations and the Merkle log', () => {
  it("name the latest checkpoint and their receipts' leaf indexes", async () => {
    const { store, domain } = await fixture();
    const tree = getSQLiteTreeStore({ path: ':memory:' });
    const signer = noteSigner('att.example/log', generateKeyPairSync('ed25519').privateKey);
    const transparency = createTransparencyService({
      tree,
      origin: 'att.example/log',
      verifierKey: signer.verifierKey,
    });
    const ids = await passRelease(domain);
    const builder = await TreeBuilder.open(tree);
    await builder.catchUp(store);
    await signCheckpoint(builder, { eventStore: store, tree, signer, origin: 'att.example/log' });
    const attestations = createAttestationService({
      eventStore: store,
      signing: signingOf(generateSigningKeyPair()),
      transparency,
    });
    const issued = await attestations.issueAttestation(UNIT, { kind: 'provenance' });
    const [event] = await store.readAll({ from: BigInt(issued.position) - 1n, maxCount: 1 });
    const log = (event?.data as AttestationIssuedData).log;
    assert.ok(log, 'the attestation names the log');
    const checkpoint = openCheckpoint(log.checkpoint, [parseVerifierKey(signer.verifierKey)]);
    assert.equal(checkpoint.size, log.treeSize);
    assert.deepEqual(log.receipts.map((r) => r.receiptId).sort(), [ids.build, ids.test].sort());
    for (const { leafIndex } of log.receipts) {
      const leaf = await tree.leafAt(leafIndex);
      assert.ok(leaf);
      const proof = await transparency.inclusionByPosition(leaf.position, log.treeSize);
      assert.equal(
        verifyInclusion(
          leafIndex,
          log.treeSize,
          leaf.hash,
          proof.proof.map((p) => Buffer.from(p, 'base64')),
          checkpoint.root,
        ),
        undefined,
      );
    }
    await tree.close();
    await store.close();
  });
});
