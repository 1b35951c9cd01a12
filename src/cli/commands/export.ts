// `provenant export` and `provenant verify-export`: a unit's evidence as a
// self-contained folder or .tar.gz (events, definitions, attestations, keys, a
// manifest), and its offline verification (docs/export.md).
import { userInfo } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import {
  EXPORT_MAX_BYTES,
  exportUnit,
  verifyExport,
  type VerifyExportResult,
} from '../../application/export/index.js';
import { openEventStore, openTransparencyReader, treeStoreExists } from '../../composition.js';
import { loadConfig } from '../../config.js';
import { count, envHelp, exitCodesHelp } from '../shared.js';
import { SIGNING_KEY_VARIABLE, signingPublicKeys } from '../signingKey.js';

interface ExportOptions {
  out: string;
  publicKey: string[];
  principal?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function exportCommand(): Command {
  return new Command('export')
    .summary("Export a unit's evidence for offline verification")
    .description(
      `Writes every event of the unit's stream (events.jsonl, with digests and chain), the gate and stage definition events its verdicts name (definitions.jsonl), each issued attestation (attestations/<id>.intoto.jsonl and .sigstore.json), the public keys that verify them (keys/<keyid>.pub.pem) and manifest.json (the SHA-256 and size of every other file). --out names a folder (created; it must not exist or be empty) or, ending in .tar.gz or .tgz, an archive of the same folder. The export is recorded as UnitExported.v1 in the unit's stream. Check it with 'provenant verify-export'.`,
    )
    .argument('<unitKey>', 'unit key: name/version/release/platform/packageType, or a purl')
    .requiredOption('--out <dir|file.tar.gz>', 'where to write the export')
    .option(
      '--public-key <file>',
      `a public key (PEM) that signed attestations; repeatable (the key of $${SIGNING_KEY_VARIABLE} is added)`,
      collect,
      [],
    )
    .option('--principal <name>', 'who exports, for the record (default: cli:<user>)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
${exitCodesHelp([
  [0, 'exported (and recorded)'],
  [2, 'usage or configuration error, unknown unit (DOMAIN_UNIT_NOT_FOUND), target not empty'],
])}

${envHelp()}
`,
    )
    .action(async (unitKey: string, options: ExportOptions) => {
      const config = loadConfig();
      const keys = signingPublicKeys(options.publicKey, config.attestation.signingKeyPath);
      const { store } = await openEventStore(config);
      // The Merkle log's checkpoint and proofs go in when it exists (docs/transparency.md).
      const transparency = treeStoreExists(config)
        ? await openTransparencyReader(config, store)
        : undefined;
      try {
        const result = await exportUnit(store, unitKey, {
          out: options.out,
          publicKeys: keys,
          principal: options.principal ?? `cli:${userInfo().username}`,
          ...(transparency === undefined ? {} : { transparency: transparency.service }),
        });
        if (options.json) {
          console.log(
            JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
          );
        } else {
          console.log(
            `exported ${result.manifest.unit} to ${result.out} (${result.form}): ${count(result.events, 'event')}, ${count(result.definitions, 'definition event')}, ${count(result.attestations, 'attestation')}; the manifest and the ${count(result.manifest.files.length, 'file')} it lists`,
          );
          console.log(
            `manifest sha256 ${result.manifestDigest} (recorded as event ${result.event.id})`,
          );
        }
        for (const keyId of result.missingKeys)
          console.error(
            `warning: no public key ${keyId} given (--public-key or $${SIGNING_KEY_VARIABLE}): its attestations will not verify offline`,
          );
        for (const id of result.withoutBundle)
          console.error(`warning: attestation ${id} was recorded without its bundle; not exported`);
      } finally {
        await transparency?.tree.close();
        await store.close();
      }
    });
}

/** One line per problem, the first as the headline. */
export function describeVerification(result: VerifyExportResult): string {
  if (result.ok)
    return [
      `ok: export of ${result.unit ?? '?'} verified: the manifest and the ${result.checked.files} files it lists, ${result.checked.events} events, ${result.checked.definitions} definition events, ${result.checked.attestations} attestations`,
      `manifest sha256 ${result.manifestSha256 ?? '?'}`,
      ...result.notes.map((n) => `note: ${n}`),
    ].join('\n');
  const [first, ...rest] = result.problems;
  return [
    `INVALID: ${first?.code ?? '?'}: ${first?.message ?? ''}`,
    ...(rest.length === 0
      ? []
      : [`  and ${count(rest.length, 'more problem')} (--json lists them all)`]),
  ].join('\n');
}

const UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** `--max-bytes`: a whole number of bytes, or of KiB, MiB or GiB (`4GiB`). */
export const parseByteSize = (value: string): number => {
  const match = /^([1-9]\d{0,15})(KiB|MiB|GiB)?$/.exec(value);
  const bytes = match === null ? NaN : Number(match[1]) * (UNITS[match[2] ?? ''] ?? NaN);
  if (!Number.isSafeInteger(bytes))
    throw new InvalidArgumentError('a whole number of bytes, or of KiB, MiB or GiB (e.g. 4GiB).');
  return bytes;
};

export function verifyExportCommand(): Command {
  return new Command('verify-export')
    .summary('Verify an export offline (folder or .tar.gz)')
    .description(
      "Checks an export with nothing but its own files: the manifest; every file it lists present with its SHA-256 and size, and nothing else; each event's content digest and each stream's hash chain (revisions contiguous from 0, one unit stream); every attestation's Sigstore bundle against its AttestationIssued event and a key in keys/; the receipts and subjects it names present in events.jsonl with matching digests and not revoked later; each VSA's policy digest recomputed from definitions.jsonl; with the Merkle log (transparency/), every event included under the exported signed checkpoint, and that checkpoint extending the one each attestation recorded (consistency proofs). Prints the first problem with its EXPORT_* code; --json lists every problem.",
    )
    .argument('<path>', 'export folder, or .tar.gz / .tgz archive')
    .option('--json', 'print the full result as JSON')
    .option(
      '--max-bytes <size>',
      `read at most this much, uncompressed (the export is read into memory; default ${EXPORT_MAX_BYTES / 1024 ** 3}GiB): a larger one is EXPORT_UNREADABLE`,
      parseByteSize,
    )
    .addHelpText(
      'after',
      `
${exitCodesHelp([
  [0, 'the export is intact and every attestation verifies'],
  [1, 'tampered or invalid, or larger than --max-bytes: the first problem with its EXPORT_* code'],
  [2, 'usage error, or the path is neither a folder nor a .tar.gz file'],
])}
`,
    )
    .action(async (path: string, options: { json?: boolean; maxBytes?: number }) => {
      const result = await verifyExport(
        path,
        options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes },
      );
      console.log(options.json ? JSON.stringify(result) : describeVerification(result));
      process.exitCode = result.ok ? 0 : 1;
    });
}
