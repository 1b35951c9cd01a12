// What the HTTP layer needs (the composition root provides it) and what route
// plugins receive.
import type { FastifyServerOptions } from 'fastify';
import type { AttestationService } from '../application/attestations/index.js';
import type { DomainService } from '../application/index.js';
import type { EventStore } from '../eventStore/types.js';
import type { LockHeld } from '../metrics/registry.js';
import type { ReadModelStore } from '../readModels/port.js';
import type { ProjectionStatus } from '../readModels/runner.js';
import type { Registry } from 'prom-client';
import type { Authenticator } from '../security/index.js';
import type { AbuseLimits } from '../security/abuseLimits.js';
import type { SignaturePolicy } from '../ingest/index.js';
import type { TransparencyService } from '../transparency/service.js';
import type { WitnessCount } from '../transparency/witness/index.js';

/** What the HTTP layer needs; the composition root provides it. */
export interface AppDeps {
  store: EventStore;
  /**
   * Who may call (docs/security.md): static tokens, OIDC, client certificates, or
   * development mode (`anonymousAuth()`). Required, so that no app is open by accident.
   */
  auth: Authenticator;
  /** Proxies (addresses, CIDR ranges) whose X-Forwarded-* headers are believed; others' are refused. */
  trustedProxies?: readonly string[];
  /** Serve HTTPS: PEM certificate and key; `ca` + `requestCert` to ask for client certificates (mTLS). */
  https?: {
    key: string | Buffer;
    cert: string | Buffer;
    ca?: string | Buffer;
    requestCert?: boolean;
    rejectUnauthorized?: boolean;
  };
  /** The command handlers and queries of the domain; built on `store` when not given. */
  domain?: DomainService;
  /**
   * Issuing, reading and verifying attestations; built on `store` and `transparency`
   * (without a signer) when not given. POST /v1/verify checks the Merkle log this
   * service was given: give it the same `transparency` as the app.
   */
  attestations?: AttestationService;
  /** Where the store points, for /readyz and logs (never secrets). */
  storeDescription: string;
  limits?: { bodyBytes: number; eventBytes: number; clockSkewMs?: number };
  /** Fastify logger options; `false` for none (tests). */
  logger?: FastifyServerOptions['logger'];
  /** Close the store when the app closes. */
  ownsStore?: boolean;
  /** True once a graceful shutdown has begun (readiness goes false). */
  isShuttingDown?: () => boolean;
  version?: string;
  /**
   * Public keys (SPKI PEM) of the store's attestation signers: exports include
   * the ones that signed the exported attestations, so that they verify offline.
   */
  attestationPublicKeys?: readonly string[];
  /** The read models the query API reads; without them, those routes answer 503. */
  readModels?: ReadModelStore;
  /** The Merkle log (checkpoints, proofs, note key); without it the /v1/log routes answer 503. */
  transparency?: TransparencyService;
  /** The projection runner's status, when it runs in this process (metrics: lag, parked). */
  projectionStatus?: () => Promise<ProjectionStatus[]>;
  /** Each checkpoint witness's counts, when the Merkle log follower posts to them (metrics). */
  witnessStatus?: () => readonly WitnessCount[];
  /** The leadership locks (PostgreSQL's, SQLite's signer lock) this process stands for, and which it holds (metrics). */
  leadership?: () => readonly LockHeld[];
  /** `minPosition` waits: longest wait (default 5,000 ms) and poll interval (default 10 ms). */
  query?: { waitMs?: number; pollMs?: number };
  /** `GET /v1/events/stream`: heartbeat (default 15,000 ms), events buffered per client (default 1,000). */
  liveFeed?: { heartbeatMs?: number; bufferSize?: number };
  /** Rate limits, the ingest queue, timeouts and the connection cap (generous defaults). */
  abuse?: AbuseLimits;
  /** Registered producers' signatures (PROVENANT_PRODUCERS_FILE); unchecked without it. */
  signaturePolicy?: SignaturePolicy;
}

/** What route plugins receive: the deps with defaults filled in. */
export interface RouteDeps extends AppDeps {
  domain: DomainService;
  attestations: AttestationService;
  limits: NonNullable<AppDeps['limits']>;
  /** This app's metrics registry (never prom-client's global one). */
  metrics: Registry;
}

/** Request body and single-event limits unless configured. */
export const DEFAULT_LIMITS = { bodyBytes: 1024 * 1024, eventBytes: 256 * 1024 };
