// `provenant log ...`: commands on the event log itself. (`provenant verify`,
// once an alias of `log verify`, now verifies attestations: commands/verify.ts.)
import { Command } from 'commander';
import { openEventStore } from '../../composition.js';
import { loadConfig } from '../../config.js';
import { count, envHelp, exitCodesHelp } from '../shared.js';
import { rotateKeyCommand } from './logRotateKey.js';
import { consistencyCommand, proveCommand, verifyWholeLog } from './logTransparency.js';

interface VerifyOptions {
  stream?: string;
  json?: boolean;
  checkpoint?: string[];
  key?: string[];
  witnessKey?: string[];
  witnessQuorum?: string;
}

const verifyDescription = `Re-walks the whole log: recomputes each event's content digest, checks each
stream's hash chain, compares each event (every stored field) with the leaf the
Merkle log recorded, and recomputes the Merkle root at every signed checkpoint
(those in the log, in the Merkle log's store, and the witness copies given with
--checkpoint). Reports every problem with its position. With --witness-key,
each --checkpoint must carry a valid cosignature by that witness key (C2SP
tlog-cosignature), and the CheckpointCosigned events in the log by it are
verified, their trees recomputed like checkpoints. With several --witness-key
and --witness-quorum N, each --checkpoint (or, without one, the log's latest
checkpoint, by the CheckpointCosigned events recorded for it) must be cosigned
by at least N of those witnesses (distinct key names). With --stream, checks one
stream's digests and chain only.`;

const verifyHelp = `
Examples:
  provenant log verify
  provenant log verify --checkpoint /mnt/witness/checkpoint.txt
  provenant log verify --checkpoint https://witness.example/provenant/latest --json
  provenant log verify --checkpoint https://provenant.example/v1/log/checkpoint \\
    --witness-key 'witness.example/w1+1a2b3c4d+BB...'
  provenant log verify --witness-key 'w1.example/w1+1a2b3c4d+BB...' \\
    --witness-key 'w2.example+9f8e7d6c+BC...' --witness-quorum 2
  provenant log verify --stream unit-openssl/3.2.1/2.el9/x86_64/rpm

${exitCodesHelp([
  [0, 'the log (or the stream) is intact'],
  [1, 'a problem: each printed with its position (stream, revision when known)'],
  [2, 'usage or configuration error (TLOG_BAD_KEY, TLOG_BAD_QUORUM, ...)'],
  [
    3,
    'the log is intact, but fewer than --witness-quorum of the given witnesses cosigned a checkpoint checked (TLOG_WITNESS_QUORUM)',
  ],
])}

${envHelp()}
`;

/** The `log verify` command without its action. */
const verifyCommand = (name: string): Command =>
  new Command(name)
    .summary('Re-walk the log and check every digest and stream chain')
    .description(verifyDescription)
    .option('--stream <name>', 'verify one stream only')
    .option('--json', 'print the result as JSON')
    .option(
      '--checkpoint <file-or-url...>',
      'also check against these signed checkpoints (witness copies: files, or http(s) URLs to GET)',
    )
    .option('--key <verifierKey...>', 'also trust checkpoints signed by this note verifier key')
    .option(
      '--witness-key <vkey...>',
      'require --checkpoint notes cosigned by this witness (cosignature/v1 vkey) and check its cosignatures in the log',
    )
    .option(
      '--witness-quorum <n>',
      'require each checkpoint checked to be cosigned by at least n of the --witness-key witnesses (default: any one of them for --checkpoint notes)',
    )
    .addHelpText('after', verifyHelp);

/** Re-walks the log; returns the exit code (0 intact, 1 broken). */
export async function verifyLog(options: VerifyOptions): Promise<number> {
  if (options.stream === undefined) return verifyWholeLog(options);
  const { store, description } = await openEventStore(loadConfig());
  try {
    if (!options.json) console.error(`verifying ${description}`);
    let lastReport = Date.now();
    const result =
      options.stream !== undefined
        ? await store.verifyStream(options.stream)
        : await store.verifyAll({
            onProgress: (checked) => {
              if (!options.json && Date.now() - lastReport > 1000) {
                lastReport = Date.now();
                console.error(`  ${count(checked, 'event')} checked`);
              }
            },
          });
    if (options.json) {
      console.log(
        JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      );
    } else if (result.ok) {
      console.log(`ok: ${count(result.checked, 'event')} verified`);
    } else {
      const p = result.problem;
      console.log(
        `BROKEN after ${count(result.checked, 'good event')}: ${p?.kind} at ${p?.stream}@${p?.revision} (position ${p?.position}, event ${p?.eventId})\n  ${p?.message}`,
      );
    }
    return result.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

export function logCommand(): Command {
  return new Command('log')
    .summary('Commands on the event log: verify, prove, consistency, rotate-key')
    .description('Commands on the event log itself.')
    .addCommand(
      verifyCommand('verify').action(async (options: VerifyOptions) => {
        process.exitCode = await verifyLog(options);
      }),
    )
    .addCommand(proveCommand())
    .addCommand(consistencyCommand())
    .addCommand(rotateKeyCommand());
}
