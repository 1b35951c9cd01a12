// Key pairs for local signing: generated here, written as PEM files with the
// private key readable by its owner only.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createFileOnce } from '../../createFileOnce.js';
import { ProvenantError } from '../../errors.js';
import { keyIdOf } from './localKey.js';

export const PRIVATE_KEY_FILE = 'signing-key.pem';
export const PUBLIC_KEY_FILE = 'signing-key.pub.pem';

export interface GeneratedKeyPair {
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** SubjectPublicKeyInfo PEM. */
  readonly publicKeyPem: string;
  /** Hex SHA-256 of the DER SPKI. */
  readonly keyId: string;
}

export function generateSigningKeyPair(): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

export interface WrittenKeyPair {
  readonly keyId: string;
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
}

/**
 * Generates a key pair and writes it to `dir` (created if missing): the private
 * key with mode 0600, the public key with 0644. Without `force`, refuses with
 * SIGN_KEY_EXISTS when either file exists, and writes nothing; with it, replaces both.
 */
export function writeSigningKeyPair(
  dir: string,
  options: { force?: boolean } = {},
): WrittenKeyPair {
  const pair = generateSigningKeyPair();
  const privateKeyPath = join(dir, PRIVATE_KEY_FILE);
  const publicKeyPath = join(dir, PUBLIC_KEY_FILE);
  mkdirSync(dir, { recursive: true });
  if (options.force) {
    // Remove rather than truncate: a file created afresh gets mode 0600, while
    // an existing file would keep its old, possibly wider, mode.
    rmSync(privateKeyPath, { force: true });
    rmSync(publicKeyPath, { force: true });
  } else {
    for (const path of [privateKeyPath, publicKeyPath]) {
      if (existsSync(path)) {
        throw new ProvenantError('SIGN_KEY_EXISTS', `${path} exists; use --force to overwrite it`);
      }
    }
  }
  // Each file appears whole or not at all, and one that appeared meanwhile (another
  // process generating a key in the same directory) is never overwritten.
  for (const [path, pem, mode] of [
    [privateKeyPath, pair.privateKeyPem, 0o600],
    [publicKeyPath, pair.publicKeyPem, 0o644],
  ] as const)
    if (!createFileOnce(path, pem, mode))
      throw new ProvenantError('SIGN_KEY_EXISTS', `a key file appeared in ${dir} while writing`);
  return { keyId: pair.keyId, privateKeyPath, publicKeyPath };
}
