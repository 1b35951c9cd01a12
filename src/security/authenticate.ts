// Authentication: from what a request presents (an Authorization header, a TLS
// client certificate) to a Principal, or an AUTH_* ProvenantError. No fastify
// here: the HTTP edge hands over the header and the certificate as data.
//
//   Authorization: Bearer pvt_…      a static token, looked up by its SHA-256
//   Authorization: Bearer <JWT>      an OIDC token, verified against the JWKS
//   client certificate (mTLS)        its subject, mapped to a principal
//   nothing                          anonymous, only in development mode
import { createHash } from 'node:crypto';
import { ProvenantError } from '../errors.js';
import type { AuthFile, Grant } from './authFile.js';
import { createOidcVerifier, type OidcOptions } from './oidc.js';
import type { Principal } from './principal.js';
import { globMatch } from './scope.js';
import { STATIC_TOKEN_PREFIX } from './tokens.js';

/** What a request presents. */
export interface Credentials {
  /** The raw Authorization header, if any. */
  readonly authorization?: string | undefined;
  /** The TLS client certificate, when the connection is TLS and the client sent one. */
  readonly certificate?:
    | {
        /** True when it chains to the configured client CA. */
        readonly authorized: boolean;
        /** Subject attributes, one `KEY=value` per line (Node's X509Certificate#subject). */
        readonly subject: string;
      }
    | undefined;
}

export interface AuthOptions {
  /** Principals: static token hashes, certificate subjects, OIDC subject rules. */
  readonly principals?: AuthFile;
  /** Verify bearer JWTs from this issuer. */
  readonly oidc?: OidcOptions;
  /**
   * Development only: a request with no credentials is the admin `anonymous`.
   * Credentials that are presented are still checked.
   */
  readonly anonymous?: boolean;
}

export interface Authenticator {
  /** How requests can authenticate, for /readyz and the start-up log (never secrets). */
  readonly mode: { readonly anonymous: boolean; readonly methods: readonly string[] };
  authenticate(credentials: Credentials): Promise<Principal>;
}

/** Largest Authorization header looked at (a JWT with many claims fits easily). */
export const MAX_AUTHORIZATION_BYTES = 8192;

/** The principal of development mode. */
export const ANONYMOUS: Principal = Object.freeze({
  id: 'anonymous',
  via: 'anonymous',
  roles: Object.freeze(['admin'] as const),
});

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** `CN=a,O=b` or `O=b\nCN=a` → the same sorted attribute list. */
export const normalizeSubject = (subject: string): string =>
  subject
    .split(/[\n,]/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0
        ? part
        : `${part.slice(0, eq).trim().toUpperCase()}=${part.slice(eq + 1).trim()}`;
    })
    .sort()
    .join(',');

const principalOf = (id: string, via: Principal['via'], grant: Grant): Principal => ({
  id,
  via,
  roles: [...grant.roles],
  ...(grant.scope === undefined ? {} : { scope: grant.scope }),
});

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function createAuthenticator(options: AuthOptions): Authenticator {
  const principals = options.principals ?? { tokens: [], certificates: [], oidc: [] };
  const tokens = new Map(principals.tokens.map((t) => [t.sha256, t]));
  const certificates = new Map(
    principals.certificates.map((c) => [normalizeSubject(c.subject), c]),
  );
  const verifyJwt = options.oidc === undefined ? undefined : createOidcVerifier(options.oidc);
  const anonymous = options.anonymous === true;
  const methods = [
    ...(tokens.size > 0 ? ['token'] : []),
    ...(verifyJwt === undefined ? [] : ['oidc']),
    ...(certificates.size > 0 ? ['mtls'] : []),
  ];

  async function bearer(token: string): Promise<Principal> {
    if (token.startsWith(STATIC_TOKEN_PREFIX)) {
      const entry = tokens.get(sha256Hex(token));
      if (entry === undefined)
        throw new ProvenantError('AUTH_TOKEN_UNKNOWN', 'The token is not recognised');
      return principalOf(`token:${entry.name}`, 'token', entry);
    }
    if (verifyJwt === undefined)
      throw new ProvenantError('AUTH_TOKEN_UNKNOWN', 'The token is not recognised');
    const claims = await verifyJwt(token);
    const subject = String(claims.sub);
    const granted = principals.oidc.filter((rule) => globMatch(rule.subject, subject));
    const roles = [...new Set(granted.flatMap((rule) => rule.roles))];
    const scope = granted.find((rule) => rule.scope !== undefined)?.scope;
    return {
      id: `oidc:${String(claims.iss)}#${subject}`,
      via: 'oidc',
      roles,
      ...(scope === undefined ? {} : { scope }),
    };
  }

  return {
    mode: { anonymous, methods },
    async authenticate({ authorization, certificate }) {
      if (authorization !== undefined) {
        if (Buffer.byteLength(authorization) > MAX_AUTHORIZATION_BYTES)
          throw new ProvenantError(
            'AUTH_HEADER_TOO_LARGE',
            `The Authorization header is longer than ${MAX_AUTHORIZATION_BYTES} bytes`,
          );
        const match = BEARER.exec(authorization);
        if (match?.[1] === undefined)
          throw new ProvenantError(
            'AUTH_MALFORMED',
            'The Authorization header must be `Bearer <token>`',
          );
        return bearer(match[1]);
      }
      if (certificate !== undefined) {
        if (!certificate.authorized)
          throw new ProvenantError(
            'AUTH_CLIENT_CERT_INVALID',
            'The client certificate does not chain to the trusted client CA',
          );
        const subject = normalizeSubject(certificate.subject);
        const entry = certificates.get(subject);
        if (entry === undefined)
          throw new ProvenantError(
            'AUTH_CLIENT_CERT_UNKNOWN',
            'The client certificate subject maps to no principal',
          );
        return principalOf(`mtls:${subject}`, 'mtls', entry);
      }
      if (anonymous) return ANONYMOUS;
      throw new ProvenantError(
        'AUTH_MISSING',
        methods.length === 0
          ? 'Authentication is required and none is configured on this server (see docs/security.md)'
          : 'Authentication is required: send `Authorization: Bearer <token>`',
      );
    },
  };
}

/** Development mode with no other method: every request without credentials is the admin `anonymous`. */
export const anonymousAuth = (): Authenticator => createAuthenticator({ anonymous: true });
