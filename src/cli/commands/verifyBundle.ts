// `provenant verify-bundle`: verifies a Sigstore bundle against an artifact,
// speaking the command-line protocol of the Sigstore conformance suite
// (sigstore/sigstore-conformance), so the suite can drive Provenant as a client.
import { Command, Option } from 'commander';
import {
  isBundleVerificationError,
  loadTrustedRoot,
  verifyBundle,
  type ArtifactInput,
  type SignerPolicy,
} from '../../provenance/verify/index.js';
import { exitCodesHelp, readOrFail } from '../shared.js';

interface VerifyBundleOptions {
  bundle: string;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  key?: string;
  trustedRoot?: string;
}

const DIGEST = /^sha256:[0-9a-fA-F]{64}$/;

export function verifyBundleCommand(): Command {
  return new Command('verify-bundle')
    .summary('Verify a Sigstore bundle against an artifact (conformance-suite protocol)')
    .description(
      "Verifies the bundle's signature, its signer (a public key, or a certificate identity and OIDC issuer under the trusted root), its transparency-log entries and timestamps, and that it is about the artifact: for a message signature the artifact's digest, for an in-toto DSSE envelope a subject's sha256. Trust material is explicit and offline: --trusted-root, or else the Sigstore public-good root embedded in @sigstore/tuf.",
    )
    .argument('<file-or-digest>', 'the artifact: a file path, or sha256:<hex>')
    .requiredOption('--bundle <file>', 'the Sigstore bundle (JSON)')
    .addOption(
      new Option('--certificate-identity <id>', 'expected certificate identity (SAN)').conflicts(
        'key',
      ),
    )
    .addOption(
      new Option('--certificate-oidc-issuer <url>', 'expected OIDC issuer').conflicts('key'),
    )
    .option('--key <path>', 'public key (PEM) of a key-signed bundle')
    .option('--trusted-root <file>', 'trusted root JSON (default: the public-good root)')
    .addHelpText(
      'after',
      `
Forms (the Sigstore conformance suite's protocol):
  provenant verify-bundle --bundle B --certificate-identity ID \\
      --certificate-oidc-issuer URL [--trusted-root F] FILE_OR_DIGEST
  provenant verify-bundle --bundle B --key PUB.pem [--trusted-root F] FILE_OR_DIGEST

${exitCodesHelp([
  [0, 'the bundle verifies'],
  [1, 'the bundle does not verify: one line with the VERIFY_* code and the reason'],
  [2, 'usage error (missing option, unreadable file)'],
])}
`,
    )
    .action((artifactArg: string, options: VerifyBundleOptions, command: Command) => {
      let policy: SignerPolicy;
      if (options.key !== undefined) {
        policy = { publicKey: readOrFail(command, options.key, 'key') };
      } else if (
        options.certificateIdentity !== undefined &&
        options.certificateOidcIssuer !== undefined
      ) {
        policy = {
          certificateIdentity: options.certificateIdentity,
          certificateIssuer: options.certificateOidcIssuer,
        };
      } else {
        command.error(
          'error: give --key, or both --certificate-identity and --certificate-oidc-issuer',
        );
      }
      const bundle = readOrFail(command, options.bundle, 'bundle');
      const artifact: ArtifactInput = DIGEST.test(artifactArg)
        ? { sha256: artifactArg.slice('sha256:'.length) }
        : { bytes: readOrFail(command, artifactArg, 'artifact') };
      try {
        const trustedRoot =
          options.trustedRoot === undefined ? undefined : loadTrustedRoot(options.trustedRoot);
        const result = verifyBundle(
          bundle,
          policy,
          artifact,
          trustedRoot === undefined ? {} : { trustedRoot },
        );
        const signer =
          result.signer.kind === 'key'
            ? `key ${result.signer.keyId}`
            : `${result.signer.identity} (issuer ${result.signer.issuer})`;
        console.log(`OK: ${options.bundle} verified; signed by ${signer}`);
        process.exitCode = 0;
      } catch (error) {
        if (!isBundleVerificationError(error)) throw error;
        console.error(`provenant: verify-bundle: ${error.code}: ${error.message}`);
        process.exitCode = 1;
      }
    });
}
