// `provenant log ...`: commands on the event log itself. (`provenant verify`,
// once an alias of `log verify`, now verifies attestations: commands/verify.ts.)
import { Command } from 'commander';
import { openEventStore } from '../../composition.js';
import { loadConfig } from '../../config.js';
import { envHelp, exitCodesHelp } from '../shared.js';

interface VerifyOptions {
  stream?: string;
  json?: boolean;
}

const verifyDescription = `Recomputes each event's content digest and checks each stream's hash chain.
Exits 0 when the log is intact, 1 at the first broken link (printed with its
stream, revision and global position), 2 on a usage or configuration error.`;

const verifyHelp = `
${exitCodesHelp([
  [0, 'the log (or the stream) is intact'],
  [1, 'a broken link: printed with its stream, revision and global position'],
  [2, 'usage or configuration error'],
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
    .addHelpText('after', verifyHelp);

/** Re-walks the log; returns the exit code (0 intact, 1 broken). */
export async function verifyLog(options: VerifyOptions): Promise<number> {
  const { store, description } = openEventStore(loadConfig());
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
                console.error(`  ${checked.toLocaleString('en-US')} events checked`);
              }
            },
          });
    if (options.json) {
      console.log(
        JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      );
    } else if (result.ok) {
      console.log(`ok: ${result.checked.toLocaleString('en-US')} events verified`);
    } else {
      const p = result.problem;
      console.log(
        `BROKEN after ${result.checked} good events: ${p?.kind} at ${p?.stream}@${p?.revision} (position ${p?.position}, event ${p?.eventId})\n  ${p?.message}`,
      );
    }
    return result.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

export function logCommand(): Command {
  return new Command('log')
    .summary('Commands on the event log: verify')
    .description('Commands on the event log itself.')
    .addCommand(
      verifyCommand('verify').action(async (options: VerifyOptions) => {
        process.exitCode = await verifyLog(options);
      }),
    );
}
