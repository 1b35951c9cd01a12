// What loadConfig (config.ts) returns: the whole configuration, typed.
import type { AbuseLimits } from './security/abuseLimits.js';
import type { WitnessTarget } from './transparency/witness/config.js';

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
  limits: { bodyBytes: number; eventBytes: number; clockSkewMs: number };
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
