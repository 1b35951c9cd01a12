// The public key of the store's signing key, for `export`: from the PEM private
// key file PROVENANT_SIGNING_KEY names (see src/config.ts), the `.pub.pem`
// beside it when there is one, else derived from the private key; plus any
// --public-key files.
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ProvenantError } from '../errors.js';

/** The variable naming the store's signing key (a PEM private key file). */
export const SIGNING_KEY_VARIABLE = 'PROVENANT_SIGNING_KEY';

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

/**
 * The keys of `files` (--public-key) and of the store's signing key (the
 * configured PROVENANT_SIGNING_KEY, when that file exists), as SPKI PEM.
 */
export function signingPublicKeys(files: readonly string[], signingKey: string): string[] {
  const keys = files.map((file) => readPublicKey(file, '--public-key'));
  if (existsSync(signingKey)) {
    const beside = signingKey.replace(/(\.pem)?$/, '.pub.pem');
    keys.push(
      existsSync(beside)
        ? readPublicKey(beside, 'public key')
        : readPublicKey(signingKey, `$${SIGNING_KEY_VARIABLE}`),
    );
  }
  return keys;
}
