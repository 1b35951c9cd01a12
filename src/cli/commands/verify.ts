// `provenant verify`: verifies an attestation for release tooling (issue 14).
// The release gate is one command:
//   provenant verify --unit KEY --stage release --key pub.pem --store URL
// exits 0 only when the unit's latest VSA for the stage is validly signed, says
// PASSED for that unit and stage, carries the stage's current policy, and every
// receipt it relies on is in the log, unrevoked, with the attested digest, and
// included in the Merkle log under the checkpoint the attestation names. With
// --export DIR the same checks run offline against an export.
import { Command, Option } from 'commander';
import {
  artifactSha256,
  verifyAttestation,
  type LogVerification,
  type VerificationReport,
  type VerifyExpectations,
} from '../../application/attestations/index.js';
import { exportEvidence, type ExportEvidence } from '../../application/export/index.js';
import { parseVerifierKey } from '../../transparency/note.js';
import type { AttestationKind } from '../../domain/events.js';
import { isProvenantError, type ErrorCode } from '../../errors.js';
import {
  loadTrustedRoot,
  type SignerPolicy,
  type TrustedRoot,
} from '../../provenance/verify/index.js';
import { exitCodesHelp, readOrFail, USAGE_ERROR } from '../shared.js';
import { apiToken } from '../../config.js';
import { storeClient, StoreProblem, type StoreClient } from '../storeClient.js';
import { logKeyText, printReport, withExportCheck } from './verifyReport.js';

interface VerifyOptions {
  bundle?: string;
  unit?: string;
  stage?: string;
  kind?: AttestationKind;
  key?: string;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  trustedRoot?: string;
  artifact?: string;
  builderId?: string;
  verifierId?: string;
  store?: string;
  export?: string;
  logKey?: string;
  json?: boolean;
}

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_COULD_NOT_CHECK = 3;

const exitOf = (result: VerificationReport['result']): number =>
  result === 'valid' ? EXIT_VALID : result === 'invalid' ? EXIT_INVALID : EXIT_COULD_NOT_CHECK;

/** A report that ends before any check of the bundle: nothing to verify, or no store. */
const early = (
  name: string,
  code: ErrorCode,
  message: string,
  outcome: 'failed' | 'could-not-check',
): VerificationReport => ({
  result: outcome === 'failed' ? 'invalid' : 'could-not-check',
  checks: [{ name, ok: false, outcome, code, message }],
});

/** Whose latest VSA: a unit's, or the newest naming an artifact's sha256 (the attestation index). */
type VsaOf = { unit: string } | { sha256: string };

/**
 * The bundle of the latest VSA for the stage (with its unit), or the report that
 * says why there is none.
 */
async function latestVsa(
  client: StoreClient,
  of: VsaOf,
  stageId: string,
): Promise<{ bundle: unknown; attestationId: string; unit: string } | VerificationReport> {
  try {
    const vsa =
      'unit' in of
        ? (await client.listAttestations(of.unit)).findLast(
            (a) => a.kind === 'vsa' && a.stage?.stageId === stageId,
          )
        : await client.latestVsaByDigest(of.sha256, stageId);
    if (vsa === undefined)
      return early(
        'attestation',
        'VERIFY_NO_ATTESTATION',
        'unit' in of
          ? `Unit ${of.unit} has no VSA for stage ${stageId}: it never passed it`
          : `No VSA for stage ${stageId} names the artifact sha256:${of.sha256}: no unit built from it passed the stage`,
        'failed',
      );
    return {
      bundle: await client.getBundle(vsa.attestationId),
      attestationId: vsa.attestationId,
      unit: vsa.unit,
    };
  } catch (error) {
    if (error instanceof StoreProblem && error.code === 'DOMAIN_UNIT_NOT_FOUND' && 'unit' in of)
      return early(
        'attestation',
        'VERIFY_NO_ATTESTATION',
        `The store has no unit ${of.unit}: it never passed stage ${stageId}`,
        'failed',
      );
    if (error instanceof StoreProblem && error.status < 500 && error.status !== 404) throw error; // e.g. a malformed unit key: the caller's mistake
    const message = error instanceof Error ? error.message : String(error);
    return early(
      'attestation',
      error instanceof StoreProblem && error.code === 'ATTEST_BUNDLE_NOT_RETAINED'
        ? 'ATTEST_BUNDLE_NOT_RETAINED'
        : 'VERIFY_STORE_UNREACHABLE',
      error instanceof StoreProblem ? `${error.code}: ${message}` : message,
      'could-not-check',
    );
  }
}

export function verifyCommand(): Command {
  return new Command('verify')
    .summary('Verify an attestation (signature, statement, expectations, evidence)')
    .description(
      `Verifies a Sigstore bundle holding an in-toto attestation: its signature and
signer (--key, or --certificate-identity and --certificate-oidc-issuer), the
signed statement, and what you expect of it: --artifact among its subjects, its
kind, builder or verifier id, and for a VSA that it says PASSED for --unit and
--stage. With --store URL it also checks, against that Provenant, that a VSA's
policy is the stage's current one (no gate or stage definition changed since)
and that every receipt the attestation relies on is in the log, unrevoked, with
the attested digest.

With --store it also checks the receipts in the store's Merkle log
(docs/transparency.md): the checkpoint the attestation names is signed by the
log key (--log-key FILE, the key GET /v1/log/key serves; without it, the key
the store serves, trusted on first use and said so), each receipt's leaf holds
the receipt's stored event and is included under that checkpoint, and the
store's latest checkpoint extends it (a log rewritten since fails). An
attestation that names no checkpoint is a note, or could-not-check with
--log-key. --export DIR checks the same offline against an export instead of a
store: the export verified, the receipts in it, their inclusion under the
checkpoint the attestation names, and the export's signed checkpoint extending
it (the consistency proof the export carries).

--unit and --stage without --bundle fetch the unit's latest VSA for the stage;
--artifact and --stage without --unit fetch the newest VSA for the stage that
names the artifact's sha256 (GET /v1/attestations?digest=), whatever its unit;
with --export DIR, the export's latest VSA for the stage, which must name it
from --store or --export: the release gate.`,
    )
    .option('--bundle <file>', 'the Sigstore bundle (JSON) to verify')
    .option('--unit <key>', 'the unit the attestation must be about (NVRPP key or purl)')
    .option('--stage <id>', 'the stage a VSA must say the unit passed')
    .addOption(
      new Option('--kind <kind>', 'the kind of attestation expected').choices([
        'provenance',
        'vsa',
        'test-result',
      ]),
    )
    .option('--key <file>', 'public key (PEM) the bundle must be signed with')
    .addOption(
      new Option('--certificate-identity <id>', 'keyless: expected certificate identity').conflicts(
        'key',
      ),
    )
    .addOption(
      new Option('--certificate-oidc-issuer <url>', 'keyless: expected OIDC issuer').conflicts(
        'key',
      ),
    )
    .option('--trusted-root <file>', 'trusted root JSON for keyless bundles (default: public good)')
    .option('--artifact <file-or-digest>', 'the artifact: a file, or sha256:<64 hex>')
    .option('--builder-id <uri>', 'expected builder id (provenance)')
    .option('--verifier-id <uri>', 'expected verifier id (VSA)')
    .option(
      '--store <url>',
      'a Provenant to check the policy, the evidence and its Merkle log against',
    )
    .addOption(
      new Option(
        '--export <dir>',
        'an export (folder or .tar.gz) to check the evidence against, offline',
      ).conflicts('store'),
    )
    .option(
      '--log-key <file>',
      'the Merkle log note verifier key to trust (text or GET /v1/log/key JSON)',
    )
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Examples:
  provenant verify --unit openssl/3.2.1/2.el9/x86_64/rpm --stage release \\
      --key signing-key.pub.pem --store http://provenant:8080
  provenant verify --bundle att.json --key pub.pem --artifact openssl.rpm
  provenant verify --artifact openssl.rpm --stage release \\
      --key signing-key.pub.pem --store http://provenant:8080
  curl -s http://provenant:8080/v1/log/key > log-key.json   # once, kept where you trust it
  provenant verify --unit openssl/3.2.1/2.el9/x86_64/rpm --stage release \\
      --key signing-key.pub.pem --store http://provenant:8080 --log-key log-key.json
  provenant verify --unit openssl/3.2.1/2.el9/x86_64/rpm --stage release \\
      --key signing-key.pub.pem --export openssl-export.tar.gz --log-key log-key.json

${exitCodesHelp([
  [0, 'valid: every check passed'],
  [1, 'invalid: a check failed (each failure printed with its code)'],
  [2, 'usage error (missing option, unreadable file, malformed digest)'],
  [
    3,
    'could not check: the store cannot be reached, a bundle was not retained, or --log-key was given and the log cannot be checked',
  ],
])}
`,
    )
    .action(async (options: VerifyOptions, command: Command) => {
      if (
        options.bundle === undefined &&
        options.unit === undefined &&
        (options.artifact === undefined ||
          (options.store === undefined && options.export === undefined))
      )
        command.error(
          'error: give --bundle FILE, or --unit KEY --stage ID with --store URL or --export DIR, or --artifact FILE --stage ID with --store URL or --export DIR',
        );
      if (options.bundle === undefined && options.stage === undefined)
        command.error(
          'error: --unit or --artifact without --bundle needs --stage (the VSA of which stage?)',
        );
      if (
        options.bundle === undefined &&
        options.store === undefined &&
        options.export === undefined
      )
        command.error(
          'error: --unit and --stage fetch the VSA from --store URL or --export DIR; give one',
        );
      if (
        options.logKey !== undefined &&
        options.store === undefined &&
        options.export === undefined
      )
        command.error('error: --log-key checks the Merkle log of --store or --export; give one');
      let policy: SignerPolicy;
      if (options.key !== undefined)
        policy = { publicKey: readOrFail(command, options.key, 'key') };
      else if (
        options.certificateIdentity !== undefined &&
        options.certificateOidcIssuer !== undefined
      )
        policy = {
          certificateIdentity: options.certificateIdentity,
          certificateIssuer: options.certificateOidcIssuer,
        };
      else
        command.error('error: give --key, or --certificate-identity and --certificate-oidc-issuer');
      if (options.store !== undefined && !/^https?:\/\/[^/]/.test(options.store))
        command.error(`error: --store must be an http(s) URL, got '${options.store}'`);

      const artifact =
        options.artifact === undefined
          ? undefined
          : options.artifact.startsWith('sha256:')
            ? options.artifact
            : readOrFail(command, options.artifact, 'artifact');
      let trustedRoot: TrustedRoot | undefined;
      let trustedKey: LogVerification['trustedKey'];
      let evidence: ExportEvidence | undefined;
      try {
        if (artifact !== undefined) artifactSha256(artifact); // a malformed digest is a usage error
        if (options.trustedRoot !== undefined) trustedRoot = loadTrustedRoot(options.trustedRoot);
        if (options.logKey !== undefined) {
          const key = logKeyText(readOrFail(command, options.logKey, 'log key'));
          parseVerifierKey(key); // a malformed key is a usage error
          trustedKey = { key, from: `from --log-key ${options.logKey}` };
        }
        if (options.export !== undefined) evidence = await exportEvidence(options.export);
      } catch (error) {
        if (!isProvenantError(error)) throw error;
        console.error(`provenant: verify: ${error.code}: ${error.message}`);
        process.exitCode = USAGE_ERROR;
        return;
      }
      const client =
        options.store === undefined ? undefined : storeClient(options.store, apiToken());
      const kind = options.kind ?? (options.stage !== undefined ? 'vsa' : undefined);
      const expected: VerifyExpectations = {
        ...(kind === undefined ? {} : { kind }),
        ...(options.unit === undefined ? {} : { unit: options.unit }),
        ...(options.stage === undefined ? {} : { stageId: options.stage }),
        ...(options.builderId === undefined ? {} : { builderId: options.builderId }),
        ...(options.verifierId === undefined ? {} : { verifierId: options.verifierId }),
      };

      let report: VerificationReport | undefined;
      let attestationId: string | undefined;
      let foundUnit: string | undefined;
      let bundle: unknown;
      if (options.bundle !== undefined) bundle = readOrFail(command, options.bundle, 'bundle');
      else if (evidence !== undefined) {
        const vsa = evidence.latestVsa(options.stage as string);
        attestationId = vsa?.attestationId;
        if (vsa === undefined)
          report = early(
            'attestation',
            'VERIFY_NO_ATTESTATION',
            `The export has no VSA for stage ${options.stage ?? ''}`,
            'failed',
          );
        else if (vsa.bundle === undefined)
          report = early(
            'attestation',
            'ATTEST_BUNDLE_NOT_RETAINED',
            `The export's VSA ${vsa.attestationId} was recorded without its bundle`,
            'could-not-check',
          );
        else bundle = vsa.bundle;
      } else {
        let fetched;
        try {
          fetched = await latestVsa(
            client as StoreClient,
            options.unit !== undefined
              ? { unit: options.unit }
              : { sha256: artifactSha256(artifact as Buffer | string) },
            options.stage as string,
          );
        } catch (error) {
          if (!(error instanceof StoreProblem)) throw error;
          console.error(`provenant: verify: ${error.code}: ${error.message}`);
          process.exitCode = USAGE_ERROR;
          return;
        }
        if ('result' in fetched) report = fetched;
        else ({ bundle, attestationId, unit: foundUnit } = fetched);
      }
      report ??= await verifyAttestation(
        {
          bundle,
          policy,
          ...(artifact === undefined ? {} : { artifact }),
          expected,
          ...(trustedRoot === undefined ? {} : { trustedRoot }),
        },
        client ?? evidence?.store,
        client !== undefined
          ? { source: client.log, ...(trustedKey === undefined ? {} : { trustedKey }) }
          : evidence !== undefined
            ? { source: evidence.log, ...(trustedKey === undefined ? {} : { trustedKey }) }
            : undefined,
      );
      if (evidence !== undefined) report = withExportCheck(report, evidence);
      const what =
        options.bundle ??
        `${attestationId === undefined ? 'no VSA' : `VSA ${attestationId}`} of ${options.unit ?? foundUnit ?? `the artifact ${options.artifact ?? ''}`} for stage ${options.stage ?? ''}` +
          (options.export === undefined ? '' : ` in export ${options.export}`);
      if (options.json)
        console.log(
          JSON.stringify({
            ...report,
            ...(attestationId === undefined ? {} : { attestationId }),
            ...(foundUnit === undefined || options.unit !== undefined ? {} : { unit: foundUnit }),
            ...(options.store === undefined ? {} : { store: options.store }),
            ...(options.export === undefined ? {} : { export: options.export }),
          }),
        );
      else
        printReport(report, {
          what,
          ...((options.store ?? options.export) === undefined
            ? {}
            : { store: options.store ?? options.export }),
        });
      process.exitCode = exitOf(report.result);
    });
}
