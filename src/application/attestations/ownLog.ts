// The server's own Merkle log as a LogSource (logChecks.ts), for POST /v1/verify:
// the same checks `provenant verify --store URL` makes over HTTP, made here by
// reading the tree store (through the transparency service) and the event store
// directly. The anchor is the checkpoint the attestation's AttestationIssued
// record names, found in the unit's stream by statement digest as the CLI finds
// it in the listing. Without a Merkle log the source serves no key, so the
// checks end in the CLI's "no log" note.
import { isProvenantError } from '../../errors.js';
import type { EventStore } from '../../eventStore/types.js';
import { readRotations } from '../../transparency/keyRotation.js';
import type { TransparencyService } from '../../transparency/service.js';
import type { LogSource, LogVerification } from './logChecks.js';
import { listAttestations } from './queries.js';

/** How the report names this source. */
export const OWN_LOG_NAME = 'this server';

/** What `log-checkpoint` says of the key: the server's own, and how not to rely on it. */
export const OWN_KEY_FROM =
  "of this server's own Merkle log (the server checks its own log; a caller who does not trust " +
  'this server should run `provenant verify --store URL --log-key FILE` with a key it holds)';

/** Why a domain or proof error means "no answer" (a note or a failure), not "could not ask". */
const answered = (error: unknown, prefix: string): string | undefined =>
  isProvenantError(error) && error.code.startsWith(prefix)
    ? `${OWN_LOG_NAME} answers ${error.code}: ${error.message}`
    : undefined;

/** The server's Merkle log, read in process; `transparency` undefined where it holds none. */
export function ownLogSource(
  store: EventStore,
  transparency: TransparencyService | undefined,
): LogSource {
  const attestationsOf = listAttestations(store);
  return {
    name: OWN_LOG_NAME,
    async anchor({ unit, statementDigest }) {
      if (unit === undefined)
        return 'the attestation names no unit to find its record by (give expected.unit)';
      let attestations;
      try {
        attestations = await attestationsOf(unit);
      } catch (error) {
        const why = answered(error, 'DOMAIN_');
        if (why === undefined) throw error;
        return why;
      }
      const record = attestations.findLast((a) => a.statementDigest === statementDigest);
      if (record === undefined)
        return `${OWN_LOG_NAME} holds no record of this attestation (statement sha256 ${statementDigest}) for unit ${unit}`;
      if (record.log === undefined)
        return `attestation ${record.attestationId} names no checkpoint (issued where the Merkle log was off, or before its first checkpoint)`;
      return {
        checkpoint: record.log.checkpoint,
        leaves: new Map(record.log.receipts.map((r) => [r.receiptId, r.leafIndex])),
      };
    },
    verifierKey: () => Promise.resolve(transparency?.verifierKey),
    keyRotations: () => readRotations(store),
    async inclusion(leafIndex, treeSize) {
      if (transparency === undefined) return `${OWN_LOG_NAME} holds no Merkle log`;
      let view;
      try {
        view = await transparency.inclusionByLeafIndex(leafIndex, treeSize);
      } catch (error) {
        const why = answered(error, 'TLOG_');
        if (why === undefined) throw error;
        return why;
      }
      // The stored event at the leaf's position, whole: the caller recomputes the leaf from it.
      const position = BigInt(view.position);
      const [event] = await store.readAll({
        from: position === 0n ? 'start' : position - 1n,
        maxCount: 1,
      });
      if (event?.position !== position)
        return `${OWN_LOG_NAME} holds no event at position ${position}, the leaf's`;
      return { proof: view.proof, event };
    },
    async latestConsistency(from) {
      if (transparency === undefined) throw new Error(`${OWN_LOG_NAME} holds no Merkle log`);
      const latest = await transparency.latestCheckpoint();
      if (latest.size <= from) return { checkpoint: latest.note, proof: [] };
      const { proof } = await transparency.consistency(from, latest.size);
      return { checkpoint: latest.note, proof };
    },
  };
}

/**
 * The log checks POST /v1/verify makes: against this server's own log, with its
 * own note key (an attestation without a checkpoint is a note, as for the CLI
 * without --log-key); without a Merkle log, the CLI's "no log" note.
 */
export function ownLogVerification(
  store: EventStore,
  transparency: TransparencyService | undefined,
): LogVerification {
  const source = ownLogSource(store, transparency);
  return transparency === undefined
    ? { source }
    : {
        source,
        trustedKey: { key: transparency.verifierKey, from: OWN_KEY_FROM, demanded: false },
      };
}
