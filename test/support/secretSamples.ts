// One sample of every kind of secret ingest refuses (src/ingest/secrets.ts),
// assembled at run time so that secret scanners do not flag the repository.
import type { SecretKind } from '../../src/ingest/secrets.js';

const A36 = 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5';
/** One sample of every kind, built at run time so that no scanner flags this file. */
export const SECRET_SAMPLES: Record<SecretKind, string> = {
  'openssh-private-key': `-----BEGIN OPENSSH ${'PRIVATE'} KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----`,
  'pgp-private-key': `-----BEGIN PGP ${'PRIVATE'} KEY BLOCK-----\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----`,
  'private-key': `-----BEGIN ${'PRIVATE'} KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----`,
  'putty-private-key': `PuTTY-User-Key-File-${'3'}: ssh-ed25519\nEncryption: none`,
  'github-token': `ghp${'_'}${A36}`,
  'github-fine-grained-token': `github${'_pat_'}11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ`,
  'aws-access-key-id': `AKIA${'IOSFODNN7EXAMPLE'}`,
  'slack-token': `xox${'b'}-1234567890-1234567890123-${A36.slice(0, 24)}`,
  jwt: `eyJhbGciOiJIUzI1NiJ9.${'eyJ'}zdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk`,
  'npm-token': `npm${'_'}${A36}`,
  'google-api-key': `AIza${'SyD'}-abcdefghijklmnopqrstuvwxyz01234`,
};
