// The public key of the store's signing key, for commands that hand it out
// (`export`, and `serve` for GET /v1/units/{key}/export): from the PEM private
// key file named by $PROVENANT_SIGNING_KEY, the `.pub.pem` beside it when there
// is one, else derived from the private key; plus any --public-key files.
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ProvenantError } from '../errors.js';

/** The variable naming the store's signing key (a PEM private key file). */
export const SIGNING_KEY_VARIABLE = 'PROVENANT_SIGNING_KEY';

/** Help line for the variable, aligned like envHelp's. */
export const signingKeyHelp = `  ${SIGNING_KEY_VARIABLE.padEnd(30)} PEM private key file the store signs attestations with; its public key (the .pub.pem beside it, or derived) goes into exports (default: none)`;

/** A PEM key file (public, or private to derive from) as SPKI PEM; SIGN_INVALID_KEY when unreadable. */
export function readPublicKey(path: string, what: string): string {
  try {
    return createPublicKey(readFileSync(path)).export({ type: 'spki', format: 'pem' }).toString();
  } catch (error) {
    throw new ProvenantError('SIGN_INVALID_KEY', `${what} ${path} is not a readable PEM key`, {
      cause: error,
    });
  }
}

/** The keys of `files` (--public-key) and of $PROVENANT_SIGNING_KEY, as SPKI PEM. */
export function signingPublicKeys(files: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const keys = files.map((file) => readPublicKey(file, '--public-key'));
  const signingKey = env[SIGNING_KEY_VARIABLE]?.trim();
  if (signingKey !== undefined && signingKey !== '') {
    const beside = signingKey.replace(/(\.pem)?$/, '.pub.pem');
    keys.push(
      existsSync(beside)
        ? readPublicKey(beside, 'public key')
        : readPublicKey(signingKey, `$${SIGNING_KEY_VARIABLE}`),
    );
  }
  return keys;
}
