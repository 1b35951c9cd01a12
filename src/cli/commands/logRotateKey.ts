// `provenant log rotate-key --new-key FILE`: replaces the log's note key
// (docs/transparency.md, "Rotating the note key"). Signs the rotation statement
// with the configured key (PROVENANT_LOG_KEY) and the new one, and appends it
// to the log as `LogKeyRotated.v1`; checkpoints after the latest one are then
// signed by the new key only, once PROVENANT_LOG_KEY points at it.
import { resolve } from 'node:path';
import { Command } from 'commander';
import { loadPostgres } from '../../adapters.js';
import { openEventStore, openTreeStore, treeOnPostgres } from '../../composition.js';
import { loadConfig } from '../../config.js';
import { LOG_KEY_STREAM, logKeyRotated } from '../../domain/events.js';
import { NO_STREAM } from '../../eventStore/expectedRevision.js';
import { ProvenantError } from '../../errors.js';
import { noteKeyProblem } from '../../transparency/follower.js';
import { loadNoteKey } from '../../transparency/keyFile.js';
import { signRotation } from '../../transparency/keyRotation.js';
import { noteSigner } from '../../transparency/note.js';
import { whileNoSQLiteSigner } from '../../transparency/sqlite/signerLock.js';
import { envHelp, exitCodesHelp } from '../shared.js';

const description = `Replaces the Merkle log's note key. Signs a rotation statement (the origin,
the size of the latest checkpoint, the current and the new verifier key) with
the current key (PROVENANT_LOG_KEY) and with the new key, and appends it to the
log as LogKeyRotated.v1 in the $log-keys stream. Checkpoints up to that size
stay signed by the current key; later ones are signed by the new key only, and
a process still holding the current key refuses to sign. Verifiers holding
either key follow the rotation (log verify, verify-export).

Run it while the signer is stopped (SQLite: provenant serve / projections run
on the store; PostgreSQL: every node and worker): it refuses with
TLOG_SIGNER_RUNNING while a signer holds the Merkle log's lock (on SQLite the
file <PROVENANT_MERKLE_PATH>.signer.lock, on PostgreSQL the leader's advisory
lock), and holds that lock itself while it rotates, so that no signer starts
meanwhile. Then point PROVENANT_LOG_KEY at the new key file and start again.
--new-key FILE is generated (Ed25519, PKCS#8 PEM, mode 0600) when it does not
exist.`;

const help = `
Examples:
  provenant log rotate-key --new-key /etc/provenant/log-key-2027.pem
  openssl genpkey -algorithm ed25519 -out new-key.pem && provenant log rotate-key --new-key new-key.pem --json

${exitCodesHelp([
  [0, 'rotated: the new key signs the checkpoints from now on'],
  [
    2,
    "usage or configuration error; the configured key is not the log's current key (TLOG_KEY_RETIRED); the new key is the current or an earlier one (TLOG_BAD_KEY); a signer is running on the store (TLOG_SIGNER_RUNNING)",
  ],
])}

${envHelp()}
`;

export function rotateKeyCommand(): Command {
  return new Command('rotate-key')
    .summary('Replace the Merkle log note key (recorded and endorsed in the log)')
    .description(description)
    .requiredOption('--new-key <file>', 'the new Ed25519 key (PKCS#8 PEM); generated when missing')
    .option('--json', 'print the recorded rotation as JSON')
    .addHelpText('after', help)
    .action(async (options: { newKey: string; json?: boolean }) => {
      const config = loadConfig();
      const { origin, keyPath } = config.transparency;
      const previous = noteSigner(origin, loadNoteKey(keyPath, false).key);
      const newKeyPath = resolve(options.newKey);
      const created = loadNoteKey(newKeyPath, true);
      const next = noteSigner(origin, created.key);
      const { store } = await openEventStore(config);
      const tree = await openTreeStore(config);
      const rotate = async (): Promise<void> => {
        const problem = await noteKeyProblem(store, tree, previous.verifierKey);
        if (problem !== undefined)
          throw new ProvenantError(
            'TLOG_KEY_RETIRED',
            `PROVENANT_LOG_KEY is not the log's current note key: ${problem}`,
          );
        const { events, currentRevision } = await store.readStream(LOG_KEY_STREAM);
        const used = events.some((e) => {
          const data = e.data as { previousVerifierKey?: unknown; verifierKey?: unknown };
          return [data.previousVerifierKey, data.verifierKey].includes(next.verifierKey);
        });
        if (used)
          throw new ProvenantError(
            'TLOG_BAD_KEY',
            `${newKeyPath} holds a key the log used before (${next.verifierKey}); a rotation needs a new key`,
          );
        const treeSize = (await tree.latestCheckpoint())?.size ?? 0;
        const data = signRotation({ origin, treeSize, previous, next });
        // A concurrent rotation makes this one fail rather than fork the chain.
        const [appended] = (
          await store.append(LOG_KEY_STREAM, [logKeyRotated(data)], {
            expectedRevision: currentRevision === 'no_stream' ? NO_STREAM : currentRevision,
          })
        ).events;
        if (options.json)
          console.log(
            JSON.stringify({
              ...data,
              position: appended?.position.toString(),
              keyFile: newKeyPath,
            }),
          );
        else
          console.log(
            [
              `rotated: checkpoints after size ${treeSize} are signed by ${next.verifierKey}`,
              `  (key file ${newKeyPath}${created.generated ? ', generated' : ''}; LogKeyRotated.v1 at position ${appended?.position})`,
              `now set PROVENANT_LOG_KEY=${newKeyPath} on every process that signs, and start them again;`,
              `the previous key ${previous.verifierKey} signs nothing more (keep it away from the log's hosts)`,
            ].join('\n'),
          );
      };
      try {
        // Holding the signer's lock (the Merkle leader's on PostgreSQL, the SQLite
        // tree store's signer lock otherwise): no process signs with the old key meanwhile.
        if (treeOnPostgres(config))
          await (
            await loadPostgres()
          ).whileNoMerkleLeader(
            {
              options: { connectionString: config.postgres.url ?? '' },
              schema: config.postgres.schema,
            },
            rotate,
          );
        else await whileNoSQLiteSigner(config.transparency.path, rotate);
      } finally {
        await tree.close();
        await store.close();
      }
    });
}
