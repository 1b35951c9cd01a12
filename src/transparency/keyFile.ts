// The log's Ed25519 note key on disk: a PKCS#8 PEM file (mode 0600), generated
// on first use when the default path is missing. Processes that share a data
// directory (several nodes on one machine or volume) may start together:
// createFileOnce lets exactly one key win, and nobody reads a half-written file.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createFileOnce } from '../createFileOnce.js';
import { ProvenantError } from '../errors.js';

/** Reads the key at `path`; generates it when missing and `generate` is set. */
export function loadNoteKey(
  path: string,
  generate: boolean,
): { key: KeyObject; generated: boolean } {
  const fail = (message: string, cause?: unknown): ProvenantError =>
    new ProvenantError('CONFIG_INVALID', `PROVENANT_LOG_KEY: ${message}`, {
      cause,
      details: { variable: 'PROVENANT_LOG_KEY' },
    });
  let generated = false;
  if (!existsSync(path)) {
    if (!generate) throw fail(`${path} does not exist`);
    mkdirSync(dirname(path), { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    // When another process created it first, that key is used.
    generated = createFileOnce(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), 0o600);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch (error) {
    throw fail(`${path}: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw fail(`${path} is not an Ed25519 private key`);
  return { key, generated };
}
