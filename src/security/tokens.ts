// Static API tokens: 256 random bits, shown once; configuration keeps only their
// SHA-256 (enough for a random token: there is nothing to guess from the hash).
import { createHash, randomBytes } from 'node:crypto';

/** Every static token starts with this, so that it is told from a JWT and found by secret scanners. */
export const STATIC_TOKEN_PREFIX = 'pvt_';

/** A new token and the hash that configuration stores. */
export function createStaticToken(): { token: string; sha256: string } {
  const token = `${STATIC_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, sha256: createHash('sha256').update(token).digest('hex') };
}
