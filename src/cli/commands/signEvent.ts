// `provenant sign-event`: signs a CloudEvent JSON file with the CloudEvents
// verifiability extension (DSSE), for producers whose SDK cannot (docs/security.md
// "Signed events").
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { ProvenantError, isProvenantError } from '../../errors.js';
import type { CloudEventJson } from '../../ingest/index.js';
import { exitCodesHelp } from '../shared.js';

interface SignEventOptions {
  key: string;
  keyId: string;
  signExtensions?: string;
  out?: string;
}

const invalid = (message: string): ProvenantError =>
  new ProvenantError('SIGN_EVENT_INVALID', message);

function readPrivateKey(path: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch {
    throw invalid(`cannot read the key file ${path}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw invalid(`${path} is not a private key in PEM (PKCS#8 or SEC1)`);
  }
  if (key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'ed25519')
    throw invalid(`${path}: only ECDSA P-256 and Ed25519 keys are supported`);
  return key;
}

// The ingest module compiles its schemas when loaded: loaded only when this command runs.
const ingest = () => import('../../ingest/index.js');

async function readEvent(path: string): Promise<CloudEventJson> {
  const { validateCloudEventJson } = await ingest();
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch {
    throw invalid(`cannot read the event file ${path}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(`${path} is not JSON`);
  }
  try {
    return validateCloudEventJson(value);
  } catch (error) {
    throw invalid(
      `${path} is not a valid CloudEvent in the JSON format: ${isProvenantError(error) ? error.message : String(error)}`,
    );
  }
}

export function signEventCommand(): Command {
  return new Command('sign-event')
    .summary('Sign a CloudEvent JSON file (CloudEvents verifiability extension)')
    .description(
      'Reads a CloudEvent in the JSON format (structured mode) and prints it signed: a DSSE envelope over the digest of its attributes and data, base64-encoded in the `dssematerial` extension, as the CloudEvents verifiability extension specifies. Extensions named with --sign-extensions are covered too (and listed in `signedextattrs`). Register the public key for the producer in PROVENANT_PRODUCERS_FILE under the same key id.',
    )
    .argument('<event>', "CloudEvent JSON file ('-' for standard input)")
    .requiredOption('--key <file>', 'private key in PEM (ECDSA P-256 or Ed25519)')
    .requiredOption('--key-id <id>', 'key id the store knows the public key by')
    .option('--sign-extensions <names>', 'comma-separated extension attributes to sign too')
    .option('--out <file>', 'write the signed event here instead of standard output')
    .addHelpText(
      'after',
      `
Example:
  provenant sign-event build-finished.json --key ci.pem --key-id ci-2026 > signed.json
  curl -H 'Content-Type: application/cloudevents+json' --data-binary @signed.json \\
    http://127.0.0.1:8080/v1/events

${exitCodesHelp([
  [0, 'the signed event was written'],
  [2, 'usage error, or the key or event cannot be used (SIGN_EVENT_INVALID)'],
])}
`,
    )
    .action(async (eventPath: string, options: SignEventOptions) => {
      const key = readPrivateKey(options.key);
      const event = await readEvent(eventPath);
      const { signEvent } = await ingest();
      const extensions =
        options.signExtensions === undefined || options.signExtensions === ''
          ? []
          : options.signExtensions.split(',').map((name) => name.trim());
      for (const name of extensions)
        if (event[name] === undefined)
          throw invalid(`the event has no extension '${name}' to sign`);
      let signed: CloudEventJson;
      try {
        signed = signEvent(event, key, options.keyId, extensions);
      } catch (error) {
        throw invalid(isProvenantError(error) ? error.message : String(error));
      }
      const text = `${JSON.stringify(signed, null, 2)}\n`;
      if (options.out === undefined) process.stdout.write(text);
      else writeFileSync(options.out, text);
    });
}
