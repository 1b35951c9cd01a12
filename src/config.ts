// Configuration from the environment: one table, one parser, clear errors. The
// README's configuration table lists exactly these variables (a test checks it).
// The table of variables is in configVariables.ts. This file stays one file past
// 400 lines on purpose: every variable is parsed here and nowhere else, so that
// the README table, the parsers and their errors cannot drift apart (a test
// checks that the README documents every variable of the table). It grew past
// 400 with the witness protocol and keys and the worker's metrics listener; the
// witness variables are read here but parsed into witnesses by
// transparency/witness/config.ts (several witnesses, each with its keys).
import { isIP } from 'node:net';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { DEFAULT_BUILDER_ID, DEFAULT_VERIFIER_ID } from './application/attestations/types.js';
import { ProvenantError } from './errors.js';
import { DEFAULT_ABUSE_LIMITS, type AbuseLimits } from './security/abuseLimits.js';
import type { ConfigVariable } from './configVariables.js';
import {
  witnessQuorum,
  witnessTargets,
  type WitnessTarget,
} from './transparency/witness/config.js';

export { configVariables, type ConfigVariable } from './configVariables.js';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  store: 'sqlite' | 'eventstore' | 'postgres';
  sqlite: { path: string; synchronous: 'FULL' | 'NORMAL'; writer: 'inline' | 'worker' };
  /** The read-model database (a file apart from the log's) and where projections run. */
  readModels: { path: string; projections: 'inline' | 'off' };
  /** The metrics listener of `provenant projections run` (none without a port). */
  metrics: { host: string; port: number | undefined };
  /** Where the read models live: the SQLite file above, or PostgreSQL. */
  readModelBackend: 'sqlite' | 'postgres';
  /** The shared PostgreSQL server of the log and/or the read models. */
  postgres: { url: string | undefined; schema: string };
  /** The Merkle log of `$all`: its tree store, note key, origin and checkpoint policy. */
  transparency: {
    path: string;
    keyPath: string;
    /** True when PROVENANT_LOG_KEY was set: a missing file is then an error, not generated. */
    keyExplicit: boolean;
    origin: string;
    every: number;
    intervalMs: number;
    witnessFile: string | undefined;
    /** The witnesses checkpoints are handed to (transparency/witness/config.ts). */
    witnesses: WitnessTarget[];
    /** How many of them must cosign a checkpoint before the store presents it (none when undefined). */
    witnessQuorum: number | undefined;
  };
  eventstore: {
    connectionString: string | undefined;
    caFile: string | undefined;
    username: string | undefined;
    password: string | undefined;
  };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  limits: { bodyBytes: number; eventBytes: number };
  /** Rate limits, ingest queue, timeouts, connection cap (docs/security.md "Limits"). */
  abuse: AbuseLimits;
  /** JSON file of registered producers and their keys (docs/security.md "Signed events"). */
  producersFile: string | undefined;
  shutdownTimeoutMs: number;
  /** Who may call (docs/security.md). */
  auth: {
    /** Development only: requests without credentials are the admin `anonymous`. */
    anonymous: boolean;
    /** JSON file of principals: token hashes, certificate subjects, OIDC subject rules. */
    file: string | undefined;
    oidc:
      | {
          issuer: string;
          audience: string[];
          jwksUrl: string | undefined;
          algorithms: string[];
          clockToleranceSeconds: number;
        }
      | undefined;
  };
  /** Serve HTTPS with these PEM files; a client CA turns on client certificates (mTLS). */
  tls: { certFile: string; keyFile: string; clientCaFile: string | undefined } | undefined;
  /** Proxies whose X-Forwarded-* headers are believed (addresses or CIDR ranges). */
  trustedProxies: string[];
  attestation: {
    /** PEM file of the ECDSA P-256 signing key. */
    signingKeyPath: string;
    /** True when PROVENANT_SIGNING_KEY was set: a missing file is then an error, not generated. */
    signingKeyExplicit: boolean;
    builderId: string;
    verifierId: string;
    attestOnStagePassed: boolean;
    /** Keyless signing (Fulcio + Rekor/TSA) instead of the key, when configured. */
    keyless:
      { fulcioUrl: string; rekorUrl?: string; tsaUrl?: string; oidcTokenFile: string } | undefined;
  };
}

type Env = Partial<Record<string, string>>;

const invalid = (name: string, message: string): ProvenantError =>
  new ProvenantError('CONFIG_INVALID', `${name}: ${message}`, { details: { variable: name } });

function integer(
  env: Env,
  name: ConfigVariable,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw invalid(name, `must be a whole number, got '${raw}'`);
  const value = Number(raw.trim());
  if (value < min || value > max)
    throw invalid(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function oneOf<T extends string>(
  env: Env,
  name: ConfigVariable,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim();
  const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (match === undefined)
    throw invalid(name, `must be one of ${allowed.join(', ')}, got '${raw}'`);
  return match;
}

function boolean(env: Env, name: ConfigVariable, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw invalid(name, `must be true or false, got '${raw}'`);
}

function typeUri(env: Env, name: ConfigVariable, fallback: string): string {
  const value = optional(env, name) ?? fallback;
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(value))
    throw invalid(name, `must be a URI with a scheme, got '${value}'`);
  return value;
}

function httpUrl(env: Env, name: ConfigVariable): string | undefined {
  const value = optional(env, name);
  if (value !== undefined && !/^https?:\/\/[^/\s]+/.test(value))
    throw invalid(name, `must be an http(s) URL, got '${value}'`);
  return value;
}

function keylessConfig(env: Env, cwd: string): Config['attestation']['keyless'] {
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

const list = (env: Env, name: ConfigVariable): string[] =>
  (optional(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

function authConfig(env: Env, cwd: string): Config['auth'] {
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

function tlsConfig(env: Env, cwd: string): Config['tls'] {
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

function trustedProxies(env: Env): string[] {
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

const optional = (env: Env, name: ConfigVariable): string | undefined => {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
};

/** `data/provenant.db` → `data/provenant-readmodels.db` (a `:memory:` log gets in-memory read models). */
function besideLog(logPath: string): string {
  if (logPath.endsWith(':memory:')) return ':memory:';
  const ext = extname(logPath);
  return join(dirname(logPath), `${basename(logPath, ext)}-readmodels${ext || '.db'}`);
}

function abuseLimits(env: Env): AbuseLimits {
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

function transparencyConfig(env: Env, dataDir: string, logPath: string): Config['transparency'] {
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

/** Reads and checks the configuration; throws `CONFIG_INVALID` naming the variable. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const dataDir = resolve(cwd, optional(env, 'PROVENANT_DATA_DIR') ?? './data');
  const store = oneOf(
    env,
    'PROVENANT_STORE',
    ['sqlite', 'eventstore', 'postgres'] as const,
    'sqlite',
  );
  const readModelsBackend = oneOf(
    env,
    'PROVENANT_READ_MODELS',
    ['sqlite', 'postgres'] as const,
    'sqlite',
  );
  const postgresUrl = optional(env, 'PROVENANT_POSTGRES_URL');
  if ((store === 'postgres' || readModelsBackend === 'postgres') && postgresUrl === undefined)
    throw invalid(
      'PROVENANT_POSTGRES_URL',
      'is required when PROVENANT_STORE or PROVENANT_READ_MODELS is postgres',
    );
  if (postgresUrl !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(postgresUrl))
    throw invalid('PROVENANT_POSTGRES_URL', 'must be a postgres:// URL');
  const postgresSchema = optional(env, 'PROVENANT_POSTGRES_SCHEMA') ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(postgresSchema))
    throw invalid(
      'PROVENANT_POSTGRES_SCHEMA',
      `must be a lower-case identifier, got '${postgresSchema}'`,
    );
  const connectionString = optional(env, 'EVENTSTORE_CONNECTION_STRING');
  if (store === 'eventstore' && connectionString === undefined)
    throw invalid('EVENTSTORE_CONNECTION_STRING', 'is required when PROVENANT_STORE=eventstore');
  const host = optional(env, 'PROVENANT_HOST') ?? '127.0.0.1';
  const sqlitePath = resolve(dataDir, optional(env, 'PROVENANT_SQLITE_PATH') ?? 'provenant.db');
  const readModelsPath = optional(env, 'PROVENANT_READ_MODELS_PATH');
  return {
    host,
    port: integer(env, 'PROVENANT_PORT', 8080, 0, 65535),
    dataDir,
    store,
    sqlite: {
      path: sqlitePath,
      synchronous: oneOf(env, 'PROVENANT_SQLITE_SYNCHRONOUS', ['FULL', 'NORMAL'] as const, 'FULL'),
      writer: oneOf(env, 'PROVENANT_SQLITE_WRITER', ['inline', 'worker'] as const, 'inline'),
    },
    readModelBackend: readModelsBackend,
    readModels: {
      path:
        readModelsPath === undefined
          ? besideLog(sqlitePath)
          : readModelsPath === ':memory:'
            ? readModelsPath
            : resolve(dataDir, readModelsPath),
      projections: oneOf(env, 'PROVENANT_PROJECTIONS', ['inline', 'off'] as const, 'inline'),
    },
    metrics: {
      host: optional(env, 'PROVENANT_METRICS_HOST') ?? '127.0.0.1',
      port:
        optional(env, 'PROVENANT_METRICS_PORT') === undefined
          ? undefined
          : integer(env, 'PROVENANT_METRICS_PORT', 0, 0, 65535),
    },
    postgres: { url: postgresUrl, schema: postgresSchema },
    transparency: transparencyConfig(env, dataDir, sqlitePath),
    eventstore: {
      connectionString,
      caFile: optional(env, 'EVENTSTORE_CA_FILE'),
      username: optional(env, 'EVENTSTORE_USERNAME'),
      password: env.EVENTSTORE_PASSWORD === '' ? undefined : env.EVENTSTORE_PASSWORD,
    },
    logLevel: oneOf(
      env,
      'PROVENANT_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
    limits: {
      bodyBytes: integer(env, 'PROVENANT_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
      eventBytes: integer(env, 'PROVENANT_EVENT_LIMIT', 256 * 1024, 256, 64 * 1024 * 1024),
    },
    abuse: abuseLimits(env),
    producersFile:
      optional(env, 'PROVENANT_PRODUCERS_FILE') === undefined
        ? undefined
        : resolve(cwd, optional(env, 'PROVENANT_PRODUCERS_FILE') ?? ''),
    shutdownTimeoutMs: integer(env, 'PROVENANT_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    auth: authConfig(env, cwd),
    tls: tlsConfig(env, cwd),
    trustedProxies: trustedProxies(env),
    attestation: {
      signingKeyPath: resolve(dataDir, optional(env, 'PROVENANT_SIGNING_KEY') ?? 'signing-key.pem'),
      signingKeyExplicit: optional(env, 'PROVENANT_SIGNING_KEY') !== undefined,
      builderId: typeUri(env, 'PROVENANT_BUILDER_ID', DEFAULT_BUILDER_ID),
      verifierId: typeUri(env, 'PROVENANT_VERIFIER_ID', DEFAULT_VERIFIER_ID),
      attestOnStagePassed: boolean(env, 'PROVENANT_ATTEST_ON_STAGE_PASSED', true),
      keyless: keylessConfig(env, cwd),
    },
  };
}

/** The bearer token CLI commands send to a store (`verify --store`), if any. */
export const apiToken = (env: Env = process.env): string | undefined =>
  optional(env, 'PROVENANT_API_TOKEN');
