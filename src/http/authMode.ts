// How the server says what its authentication mode is: loudly when anyone may do
// anything (development mode), and when nobody can (no method configured).
import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../security/index.js';

/** The warning of development mode, at start and in /readyz. */
export const ANONYMOUS_WARNING =
  'DEVELOPMENT MODE: requests without credentials are the admin "anonymous" and may do anything. ' +
  'Never expose this server; set PROVENANT_AUTH_ANONYMOUS=false (see docs/security.md).';

/** Logs the authentication mode once the server listens. */
export function logAuthMode(app: FastifyInstance, auth: Authenticator): void {
  const { anonymous, methods } = auth.mode;
  if (anonymous) {
    const banner = '!'.repeat(78);
    app.log.warn({ auth: 'anonymous' }, ANONYMOUS_WARNING);
    // Also on stderr, unmissable even with the log level turned down.
    process.stderr.write(`${banner}\n${ANONYMOUS_WARNING}\n${banner}\n`);
  } else if (methods.length === 0)
    app.log.warn(
      'no authentication is configured: every request except /healthz, /readyz and /docs is refused ' +
        '(set PROVENANT_AUTH_FILE or PROVENANT_AUTH_OIDC_ISSUER; see docs/security.md)',
    );
  else app.log.info({ auth: methods }, 'authentication');
}
