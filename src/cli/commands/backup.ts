// `provenant backup <dir>`: a consistent copy of the embedded store (the log
// and its Merkle log, optionally the keys) while `serve` runs (backupStore.ts).
import { Command } from 'commander';
import { backupStore } from '../../backupStore.js';
import { loadConfig } from '../../config.js';
import { envHelp, exitCodesHelp } from '../shared.js';

const megabytes = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MB`;

export function backupCommand(): Command {
  return new Command('backup')
    .summary('Copy the embedded store consistently, while it runs')
    .description(
      'Copies the SQLite log and its Merkle log into <dir>, each as of one commit (SQLite VACUUM INTO: writers go on meanwhile), the Merkle log first so that the log copy holds every event it recorded; then checks that the two copies agree. Read models are not copied: they rebuild from the log at start. To restore, stop the server and put the files back where PROVENANT_SQLITE_PATH and PROVENANT_MERKLE_PATH point (docs/backup.md). PostgreSQL and KurrentDB stores are backed up with their own tools.',
    )
    .argument('<dir>', 'folder to write into (created; it must not exist or be empty)')
    .option(
      '--with-keys',
      'also copy the note key (PROVENANT_LOG_KEY) and the signing key (PROVENANT_SIGNING_KEY), mode 0600: keep the backup as secret as the keys',
    )
    .addHelpText(
      'after',
      `
${envHelp()}

${exitCodesHelp([
  [0, 'the copies were written and agree'],
  [
    2,
    'usage or configuration error (a store that is not SQLite), BACKUP_TARGET_EXISTS, or TLOG_LOG_MISMATCH when the copies disagree',
  ],
])}
`,
    )
    .action(async (dir: string, options: { withKeys?: boolean }) => {
      const config = loadConfig();
      const result = await backupStore(config, dir, {
        withKeys: options.withKeys === true,
        onFile: (what) => console.error(`copying the ${what} ...`),
      });
      for (const file of result.files)
        console.log(`${file.what.padEnd(12)} ${file.path} (${megabytes(file.bytes)})`);
      const tree =
        result.tree === undefined
          ? 'no SQLite Merkle log'
          : `Merkle log of ${result.tree.size} leaves${result.tree.checkpoint === undefined ? '' : `, latest checkpoint ${result.tree.checkpoint}`}`;
      console.log(`ok: log up to position ${result.logHead}; ${tree}; the copies agree`);
      if (options.withKeys !== true)
        console.log(
          `keys not copied: keep ${config.transparency.keyPath} and ${config.attestation.signingKeyPath} safe too (--with-keys copies them)`,
        );
    });
}
