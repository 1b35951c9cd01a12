// Configuration from the environment: one table, one parser, clear errors. The
// table of variables is in configVariables.ts, and the README's configuration
// table lists exactly these variables (a test checks it). Every variable is
// read through configEnv.ts's readers, here or in configSections.ts (the parts
// that take several variables or a check across them); nothing else reads the
// environment.
import { resolve } from 'node:path';
import { DEFAULT_BUILDER_ID, DEFAULT_VERIFIER_ID } from './application/attestations/types.js';
import { boolean, integer, invalid, oneOf, optional, typeUri, type Env } from './configEnv.js';
import {
  abuseLimits,
  authConfig,
  besideLog,
  keylessConfig,
  tlsConfig,
  transparencyConfig,
  trustedProxies,
} from './configSections.js';
import type { Config } from './configTypes.js';

export { configVariables, type ConfigVariable } from './configVariables.js';
export type { Config } from './configTypes.js';

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
      clockSkewMs: integer(env, 'PROVENANT_CLOCK_SKEW_MS', 5 * 60_000, 1000, 24 * 3_600_000),
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
