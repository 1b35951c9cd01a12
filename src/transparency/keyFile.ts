// The log's Ed25519 note key on disk: a PKCS#8 PEM file (mode 0600), generated
// on first use when the default path is missing. Processes that share a data
// directory (several nodes on one machine or volume) may start together: the
// key is written to a file of its own and linked into place, so exactly one
// key wins and nobody reads a half-written file.
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, privateKey.export({ format: 'pem', type: 'pkcs8' }), {
      mode: 0o600,
      flag: 'wx',
    });
    try {
      linkSync(tmp, path); // fails when another process linked its key first: that one is used
      generated = true;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(tmp);
    }
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
