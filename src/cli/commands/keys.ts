// `provenant keys ...`: the local signing key pair (ECDSA P-256) that signs
// attestations offline.
import { Command } from 'commander';
import {
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  writeSigningKeyPair,
} from '../../provenance/signing/index.js';
import { exitCodesHelp } from '../shared.js';

interface GenerateOptions {
  out: string;
  force?: boolean;
}

export function keysCommand(): Command {
  return new Command('keys')
    .summary('Commands on signing keys: generate')
    .description('Commands on the local key pair that signs attestations.')
    .addCommand(
      new Command('generate')
        .summary('Generate an ECDSA P-256 signing key pair')
        .description(
          `Writes ${PRIVATE_KEY_FILE} (PKCS#8 PEM, mode 0600) and ${PUBLIC_KEY_FILE} (SubjectPublicKeyInfo PEM) into the output directory, creating it if needed, and prints the key id: the hex SHA-256 of the DER public key, which signed bundles carry as their key hint. Refuses to overwrite existing files without --force.`,
        )
        .option('--out <dir>', 'directory to write the key files into', '.')
        .option('--force', 'replace existing key files')
        .addHelpText(
          'after',
          `
${exitCodesHelp([
  [0, 'the key pair was written; the key id is printed on stdout'],
  [2, 'usage error, or a key file exists (SIGN_KEY_EXISTS) and --force was not given'],
])}
`,
        )
        .action((options: GenerateOptions) => {
          const written = writeSigningKeyPair(options.out, { force: options.force === true });
          console.error(`wrote ${written.privateKeyPath} (mode 0600) and ${written.publicKeyPath}`);
          console.log(written.keyId);
        }),
    );
}
