// Key pairs for local signing: generated here, written as PEM files with the
// private key readable by its owner only.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  // 'wx' fails on a file that appeared meanwhile instead of overwriting it.
  try {
    writeFileSync(privateKeyPath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(publicKeyPath, pair.publicKeyPem, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new ProvenantError('SIGN_KEY_EXISTS', `a key file appeared in ${dir} while writing`, {
      cause: error,
    });
  }
  return { keyId: pair.keyId, privateKeyPath, publicKeyPath };
}
