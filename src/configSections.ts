// The parts of the configuration that take more than one variable or a check
// across them: keyless signing, authentication, TLS, trusted proxies, the abuse
// limits, the Merkle log and its witnesses (parsed into witnesses by
// transparency/witness/config.ts). loadConfig (config.ts) assembles them.
import { isIP } from 'node:net';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Config } from './configTypes.js';
import type { ConfigVariable } from './configVariables.js';
import {
  boolean,
  httpUrl,
  integer,
  invalid,
  list,
  oneOf,
  optional,
  type Env,
} from './configEnv.js';
import { DEFAULT_ABUSE_LIMITS, type AbuseLimits } from './security/abuseLimits.js';
import {
  witnessQuorum,
  witnessTargets,
  type WitnessTarget,
} from './transparency/witness/config.js';

export function keylessConfig(env: Env, cwd: string): Config['attestation']['keyless'] {
  const fulcioUrl = httpUrl(env, 'PROVENANT_FULCIO_URL');
  const rekorUrl = httpUrl(env, 'PROVENANT_REKOR_URL');
  const tsaUrl = httpUrl(env, 'PROVENANT_TSA_URL');
  const tokenFile = optional(env, 'PROVENANT_OIDC_TOKEN_FILE');
  if (fulcioUrl === undefined) return undefined;
  if (tokenFile === undefined)
    throw invalid('PROVENANT_OIDC_TOKEN_FILE', 'is required when PROVENANT_FULCIO_URL is set');
  if (rekorUrl === undefined && tsaUrl === undefined)
    throw invalid(
      'PROVENANT_FULCIO_URL',
      'keyless signing needs PROVENANT_REKOR_URL or PROVENANT_TSA_URL too (a verifier needs a trusted time)',
    );
  return {
    fulcioUrl,
    ...(rekorUrl === undefined ? {} : { rekorUrl }),
    ...(tsaUrl === undefined ? {} : { tsaUrl }),
    oidcTokenFile: resolve(cwd, tokenFile),
  };
}

export function authConfig(env: Env, cwd: string): Config['auth'] {
  const file = optional(env, 'PROVENANT_AUTH_FILE');
  const issuer = optional(env, 'PROVENANT_AUTH_OIDC_ISSUER');
  if (issuer !== undefined && !/^https?:\/\/[^/\s]+/.test(issuer))
    throw invalid('PROVENANT_AUTH_OIDC_ISSUER', `must be an http(s) URL, got '${issuer}'`);
  const audience = list(env, 'PROVENANT_AUTH_OIDC_AUDIENCE');
  if (issuer !== undefined && audience.length === 0)
    throw invalid(
      'PROVENANT_AUTH_OIDC_AUDIENCE',
      'is required when PROVENANT_AUTH_OIDC_ISSUER is set',
    );
  const algorithms = list(env, 'PROVENANT_AUTH_OIDC_ALGORITHMS');
  const refused = algorithms.find((alg) => alg.toLowerCase() === 'none' || /^HS/i.test(alg));
  if (refused !== undefined)
    throw invalid('PROVENANT_AUTH_OIDC_ALGORITHMS', `${refused} is never accepted`);
  return {
    anonymous: boolean(env, 'PROVENANT_AUTH_ANONYMOUS', false),
    file: file === undefined ? undefined : resolve(cwd, file),
    oidc:
      issuer === undefined
        ? undefined
        : {
            issuer,
            audience,
            jwksUrl: httpUrl(env, 'PROVENANT_AUTH_OIDC_JWKS_URL'),
            algorithms:
              algorithms.length > 0 ? algorithms : ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'],
            clockToleranceSeconds: integer(env, 'PROVENANT_AUTH_OIDC_CLOCK_TOLERANCE', 30, 0, 3600),
          },
  };
}

export function tlsConfig(env: Env, cwd: string): Config['tls'] {
  const cert = optional(env, 'PROVENANT_TLS_CERT');
  const key = optional(env, 'PROVENANT_TLS_KEY');
  const clientCa = optional(env, 'PROVENANT_TLS_CLIENT_CA');
  if (cert === undefined && key === undefined) {
    if (clientCa !== undefined)
      throw invalid('PROVENANT_TLS_CLIENT_CA', 'needs PROVENANT_TLS_CERT and PROVENANT_TLS_KEY');
    return undefined;
  }
  if (cert === undefined || key === undefined)
    throw invalid(
      cert === undefined ? 'PROVENANT_TLS_CERT' : 'PROVENANT_TLS_KEY',
      'PROVENANT_TLS_CERT and PROVENANT_TLS_KEY go together',
    );
  return {
    certFile: resolve(cwd, cert),
    keyFile: resolve(cwd, key),
    clientCaFile: clientCa === undefined ? undefined : resolve(cwd, clientCa),
  };
}

export function trustedProxies(env: Env): string[] {
  const entries = list(env, 'PROVENANT_TRUSTED_PROXIES');
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = family === 6 ? 128 : 32;
    if (
      family === 0 ||
      extra !== undefined ||
      (prefix !== undefined && (!/^\d+$/.test(prefix) || Number(prefix) > bits))
    )
      throw invalid('PROVENANT_TRUSTED_PROXIES', `not an IP address or CIDR range: '${entry}'`);
  }
  return entries;
}

/** `data/provenant.db` → `data/provenant-readmodels.db` (a `:memory:` log gets in-memory read models). */
export function besideLog(logPath: string): string {
  if (logPath.endsWith(':memory:')) return ':memory:';
  const ext = extname(logPath);
  return join(dirname(logPath), `${basename(logPath, ext)}-readmodels${ext || '.db'}`);
}

export function abuseLimits(env: Env): AbuseLimits {
  const d = DEFAULT_ABUSE_LIMITS;
  const ms = (name: ConfigVariable, fallback: number): number =>
    integer(env, name, fallback, 100, 3_600_000);
  const headersTimeoutMs = ms('PROVENANT_HEADERS_TIMEOUT_MS', d.server.headersTimeoutMs);
  const requestTimeoutMs = ms('PROVENANT_REQUEST_TIMEOUT_MS', d.server.requestTimeoutMs);
  if (headersTimeoutMs > requestTimeoutMs)
    throw invalid('PROVENANT_HEADERS_TIMEOUT_MS', 'must not exceed PROVENANT_REQUEST_TIMEOUT_MS');
  return {
    rateLimit: {
      max: integer(env, 'PROVENANT_RATE_LIMIT', d.rateLimit.max, 1, 1_000_000_000),
      windowMs: ms('PROVENANT_RATE_LIMIT_WINDOW_MS', d.rateLimit.windowMs),
    },
    ingestQueue: {
      max: integer(env, 'PROVENANT_INGEST_QUEUE', d.ingestQueue.max, 1, 1_000_000),
      perPrincipal: integer(
        env,
        'PROVENANT_INGEST_QUEUE_PER_PRINCIPAL',
        d.ingestQueue.perPrincipal,
        1,
        1_000_000,
      ),
    },
    retryAfterSeconds: d.retryAfterSeconds,
    server: {
      headersTimeoutMs,
      requestTimeoutMs,
      keepAliveTimeoutMs: ms('PROVENANT_KEEP_ALIVE_TIMEOUT_MS', d.server.keepAliveTimeoutMs),
      idleTimeoutMs: ms('PROVENANT_IDLE_TIMEOUT_MS', d.server.idleTimeoutMs),
      // Node checks the timeouts on an interval: often enough that a late client is cut near its time.
      timeoutCheckIntervalMs: Math.max(50, Math.min(1_000, Math.floor(headersTimeoutMs / 4))),
      maxConnections: integer(
        env,
        'PROVENANT_MAX_CONNECTIONS',
        d.server.maxConnections,
        1,
        1_000_000,
      ),
    },
  };
}

/** `data/provenant.db` → `data/provenant-merkle.db` (`:memory:` stays in memory). */
function merkleBesideLog(logPath: string): string {
  if (logPath.endsWith(':memory:')) return ':memory:';
  const ext = extname(logPath);
  return join(dirname(logPath), `${basename(logPath, ext)}-merkle${ext || '.db'}`);
}

export function transparencyConfig(
  env: Env,
  dataDir: string,
  logPath: string,
): Config['transparency'] {
  const path = optional(env, 'PROVENANT_MERKLE_PATH');
  const keyPath = optional(env, 'PROVENANT_LOG_KEY');
  const origin = optional(env, 'PROVENANT_LOG_ORIGIN') ?? 'provenant.local/log';
  if (!/^[^\s+]{1,256}$/u.test(origin))
    throw invalid(
      'PROVENANT_LOG_ORIGIN',
      `must be one word without spaces or '+', got '${origin}'`,
    );
  const witness = optional(env, 'PROVENANT_CHECKPOINT_WITNESS_FILE');
  const witnesses = witnessesConfig(env);
  return {
    path:
      path === undefined
        ? merkleBesideLog(logPath)
        : path === ':memory:'
          ? path
          : resolve(dataDir, path),
    keyPath: resolve(dataDir, keyPath ?? 'log-key.pem'),
    keyExplicit: keyPath !== undefined,
    origin,
    every: integer(env, 'PROVENANT_CHECKPOINT_EVERY', 1000, 1, 100_000_000),
    intervalMs: integer(env, 'PROVENANT_CHECKPOINT_SECONDS', 60, 1, 86_400) * 1000,
    witnessFile: witness === undefined ? undefined : resolve(dataDir, witness),
    witnesses,
    witnessQuorum: witnessQuorum(optional(env, 'PROVENANT_CHECKPOINT_WITNESS_QUORUM'), witnesses),
  };
}

function witnessesConfig(env: Env): WitnessTarget[] {
  return witnessTargets({
    url: httpUrl(env, 'PROVENANT_CHECKPOINT_WITNESS_URL'),
    protocol: oneOf(
      env,
      'PROVENANT_CHECKPOINT_WITNESS_PROTOCOL',
      ['post', 'tlog-witness'] as const,
      'post',
    ),
    keys: optional(env, 'PROVENANT_CHECKPOINT_WITNESS_KEY'),
    list: optional(env, 'PROVENANT_CHECKPOINT_WITNESSES'),
  });
}
