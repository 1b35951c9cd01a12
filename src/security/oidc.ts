// OIDC bearer tokens: a JWT verified with `jose` against the issuer's JWKS
// (createRemoteJWKSet keeps the keys cached and fetches them again when a token
// names a key id it does not know, so rotated keys are picked up). Issuer,
// audience, algorithms and clock tolerance are checked by `jwtVerify`; every
// failure maps to its own AUTH_* code, without echoing the token.
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { boundedText } from '../boundedAnswer.js';
import { ProvenantError, type ErrorCode } from '../errors.js';

export interface OidcOptions {
  /** Expected `iss`, exactly. */
  readonly issuer: string;
  /** Expected `aud` (one of them). */
  readonly audience: string | readonly string[];
  /** The issuer's JWKS; discovered from `<issuer>/.well-known/openid-configuration` when absent. */
  readonly jwksUrl?: string;
  /** Allowed JWS algorithms (never `none`, never HMAC with a public key). */
  readonly algorithms: readonly string[];
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. */
  readonly clockToleranceSeconds: number;
  /** Least time between two JWKS fetches caused by unknown key ids (jose `cooldownDuration`, default 30 s). */
  readonly jwksCooldownMs?: number;
  /** How long fetched keys are trusted before a fetch (jose `cacheMaxAge`, default 10 min). */
  readonly jwksCacheMaxAgeMs?: number;
  /** HTTP timeout of discovery and JWKS fetches (default 5 s). */
  readonly timeoutMs?: number;
}

/** Algorithms allowed unless configured: asymmetric only. */
export const DEFAULT_OIDC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;

const fail = (code: ErrorCode, message: string, cause?: unknown): ProvenantError =>
  new ProvenantError(code, message, cause === undefined ? {} : { cause });

/** The AUTH_* error of a jose failure (messages name the check, never the token). */
export function oidcError(error: unknown): ProvenantError {
  if (error instanceof ProvenantError) return error;
  if (error instanceof errors.JWTExpired)
    return fail('AUTH_TOKEN_EXPIRED', 'The token has expired', error);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || (error.claim === 'iat' && error.reason === 'check_failed'))
      return fail('AUTH_TOKEN_NOT_YET_VALID', 'The token is not valid yet', error);
    if (error.claim === 'aud')
      return fail('AUTH_TOKEN_AUDIENCE', 'The token is not for this audience', error);
    if (error.claim === 'iss')
      return fail('AUTH_TOKEN_ISSUER', 'The token is not from the configured issuer', error);
    return fail('AUTH_TOKEN_CLAIMS', `The token's "${error.claim}" claim is invalid`, error);
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return fail('AUTH_TOKEN_ALGORITHM', "The token's algorithm is not allowed", error);
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return fail(
      'AUTH_TOKEN_UNKNOWN_KEY',
      "No key of the issuer's key set matches the token",
      error,
    );
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return fail('AUTH_TOKEN_SIGNATURE', 'The token signature does not verify', error);
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return fail('AUTH_ISSUER_UNAVAILABLE', "The issuer's key set cannot be fetched", error);
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JWKInvalid
  )
    return fail('AUTH_TOKEN_INVALID', 'The token is not a well-formed signed JWT', error);
  // fetch failures (connection refused, DNS) and the like: the issuer, not the token.
  return fail('AUTH_ISSUER_UNAVAILABLE', "The issuer's key set cannot be fetched", error);
}

/** An OpenID provider's configuration document is a few kilobytes. */
const MAX_DISCOVERY_BYTES = 1024 ** 2;

async function discoverJwksUrl(issuer: string, timeoutMs: number): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`OIDC discovery: ${url} answered ${response.status}`);
  const document = JSON.parse(await boundedText(response, MAX_DISCOVERY_BYTES)) as {
    issuer?: unknown;
    jwks_uri?: unknown;
  };
  if (document.issuer !== issuer || typeof document.jwks_uri !== 'string')
    throw new Error(`OIDC discovery: ${url} names another issuer or no jwks_uri`);
  return new URL(document.jwks_uri);
}

/** A verifier of bearer JWTs for one issuer: the verified claims, or an AUTH_* ProvenantError. */
export function createOidcVerifier(options: OidcOptions): (token: string) => Promise<JWTPayload> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const jwksOptions = {
    timeoutDuration: timeoutMs,
    ...(options.jwksCooldownMs === undefined ? {} : { cooldownDuration: options.jwksCooldownMs }),
    ...(options.jwksCacheMaxAgeMs === undefined ? {} : { cacheMaxAge: options.jwksCacheMaxAgeMs }),
  };
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const keySet = (): Promise<JWTVerifyGetKey> => {
    keys ??= (
      options.jwksUrl === undefined
        ? discoverJwksUrl(options.issuer, timeoutMs)
        : Promise.resolve(new URL(options.jwksUrl))
    ).then((url) => createRemoteJWKSet(url, jwksOptions));
    // A failed discovery is tried again by the next request.
    keys.catch(() => (keys = undefined));
    return keys;
  };
  return async (token) => {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch (error) {
      throw fail('AUTH_TOKEN_INVALID', 'The token is not a well-formed signed JWT', error);
    }
    if (typeof alg !== 'string' || alg.toLowerCase() === 'none')
      throw fail('AUTH_TOKEN_UNSIGNED', 'Unsigned tokens (alg none) are never accepted');
    try {
      const { payload } = await jwtVerify(token, await keySet(), {
        issuer: options.issuer,
        audience: [
          ...(typeof options.audience === 'string' ? [options.audience] : options.audience),
        ],
        algorithms: [...options.algorithms],
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
      });
      return payload;
    } catch (error) {
      throw oidcError(error);
    }
  };
}
