// Runs the HTTP server on the configured store until SIGTERM/SIGINT, then shuts
// down gracefully: readiness goes false, the listener stops, in-flight requests
// and appends finish, the database closes. Alongside the API it runs, in this
// process, the projection runner (unless PROVENANT_PROJECTIONS=off) and the
// attestor that issues a VSA for every StagePassed (unless
// PROVENANT_ATTEST_ON_STAGE_PASSED=false).
import type { FastifyInstance } from 'fastify';
import { projections } from '../../projections/index.js';
import {
  createAttestationService,
  startAttestor,
  type Attestor,
} from '../application/attestations/index.js';
import {
  createMerkleFollower,
  createProjectionWorkers,
  loadSigning,
  locksOf,
  standingByOnReadModels,
  openEventStore,
  openReadModels,
  openTransparency,
  prepareBackends,
  startChainBinding,
  treeOnPostgres,
  type ProjectionWorkers,
} from '../composition.js';
import { loadAuthenticator, loadTls } from '../compositionAuth.js';
import { createDomainService } from '../application/index.js';
import { noteKeyProblem, type TransparencyFollower } from '../transparency/follower.js';
import type { Config } from '../config.js';
import type { EventStore } from '../eventStore/types.js';
import { isProvenantError } from '../errors.js';
import { createSignaturePolicy } from '../ingest/index.js';
import { loadProducersFile } from '../security/producersFile.js';
import { buildApp } from './app.js';
import { listenOn } from './listen.js';
import type { AppDeps } from './deps.js';
import { logAuthMode } from './authMode.js';

export interface RunningServer {
  app: FastifyInstance;
  /** The address actually bound (useful with port 0). */
  url: string;
  /** The store it serves (closed by shutdown), for in-process tools such as the demo. */
  store: EventStore;
  /** Graceful shutdown; resolves when everything is closed. Idempotent. */
  shutdown(reason?: string): Promise<void>;
}

/** What a caller may add to the app's deps beyond the configuration. */
export type ServerExtras = Pick<AppDeps, 'attestationPublicKeys'>;

export async function startServer(
  config: Config,
  version = '0.0.0',
  extras: ServerExtras = {},
): Promise<RunningServer> {
  // The key first: a missing or unreadable key refuses to start before the store opens.
  const { signing, generated } = loadSigning(config);
  // Then who may call: a bad principals file or TLS file refuses to start too.
  const auth = loadAuthenticator(config);
  const https = loadTls(config);
  // So is an invalid producers file.
  const producers =
    config.producersFile === undefined ? undefined : loadProducersFile(config.producersFile);
  const { store, description } = await openEventStore(config, { create: true });
  // The Merkle log of `$all` (docs/transparency.md): read by the /v1/log routes and
  // named by attestations in every mode, kept current here beside the projections
  // (on PostgreSQL by the one elected process among all nodes and workers).
  const transparency = await openTransparency(config, store);
  let shuttingDown = false;
  const attestations = createAttestationService({
    eventStore: store,
    signing,
    builderId: config.attestation.builderId,
    verifierId: config.attestation.verifierId,
    version,
    maxEventBytes: config.limits.eventBytes,
    transparency: transparency.service,
  });
  // Exports carry the public keys that verify the store's attestations: this
  // store's own, and any the caller adds (keys of earlier signers).
  const attestationPublicKeys = [
    ...new Set([
      ...(extras.attestationPublicKeys ?? []),
      ...(signing.publicKeyPem === undefined ? [] : [signing.publicKeyPem]),
    ]),
  ];
  // The read models serve the query API in every mode; the runner keeps them
  // current in this process unless PROVENANT_PROJECTIONS=off (then another does).
  const warnings: string[] = [];
  const { readModels, description: readModelsDescription } = await openReadModels(
    config,
    (message) => warnings.push(message),
  );
  try {
    // A schema newer than this code refuses to start; an unreachable server does not.
    await prepareBackends([store, readModels, transparency.tree], (message) =>
      warnings.push(message),
    );
    // The tables exist before the first query (the runner fills them once started).
    for (const projection of projections) await readModels.ensureProjection(projection);
  } catch (error) {
    const unavailable =
      isProvenantError(error) &&
      (error.code === 'READ_MODEL_UNAVAILABLE' || error.code === 'STORE_BACKEND_UNAVAILABLE');
    if (!unavailable) {
      await transparency.tree.close();
      await readModels.close();
      await store.close();
      throw error;
    }
    warnings.push(`read-model tables not checked: ${error.message}`);
  }
  // The runner logs through the app, built after it; the app's metrics read the follower, built after it.
  const logTo: { app?: FastifyInstance } = {};
  const followerOf: { follower?: TransparencyFollower } = {};
  const runner: ProjectionWorkers | undefined =
    config.readModels.projections === 'off'
      ? undefined
      : await createProjectionWorkers({
          eventStore: store,
          readModels,
          projections,
          log: (level, message, fields) => logTo.app?.log[level](fields ?? {}, message),
        });
  // One domain service for the API and the chain binder (started once listening).
  const domain = createDomainService({ eventStore: store });
  const app = await buildApp({
    domain,
    ...extras,
    auth,
    trustedProxies: config.trustedProxies,
    ...(https === undefined ? {} : { https }),
    attestationPublicKeys,
    store,
    attestations,
    storeDescription: description,
    limits: config.limits,
    abuse: config.abuse,
    ...(producers === undefined ? {} : { signaturePolicy: createSignaturePolicy(producers) }),
    ownsStore: true,
    isShuttingDown: () => shuttingDown,
    version,
    readModels,
    transparency: transparency.service,
    ...(runner === undefined ? {} : { projectionStatus: () => runner.status() }),
    witnessStatus: () => followerOf.follower?.witnesses() ?? [],
    leadership: () => locksOf(runner, followerOf.follower)(),
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
  });
  logTo.app = app;
  for (const warning of warnings) app.log.warn(warning);
  // Checkpoints signed elsewhere (another node on PostgreSQL) must verify with this
  // node's key; checked in the background, so that an unreachable server delays nothing.
  void noteKeyProblem(store, transparency.tree, transparency.signer.verifierKey).then(
    (problem) => {
      if (problem !== undefined) app.log.warn(`GET /v1/log/key is wrong here: ${problem}`);
    },
    () => undefined,
  );
  app.addHook('onClose', async () => readModels.close());
  app.addHook('onClose', async () => transparency.tree.close());
  const follower: TransparencyFollower | undefined =
    runner === undefined
      ? undefined
      : await createMerkleFollower(config, store, transparency, (level, message, fields) =>
          app.log[level](fields ?? {}, message),
        );
  followerOf.follower = follower;
  let url: string;
  try {
    url = await listenOn(
      app,
      config.host,
      config.port,
      { host: 'PROVENANT_HOST (--host)', port: 'PROVENANT_PORT (--port)' },
      https === undefined ? 'http' : 'https',
    );
  } catch (error) {
    await app.close();
    throw error;
  }
  app.log.info({ store: description, url }, 'provenant is serving');
  logAuthMode(app, auth);
  // CDEvents chains are bound by a process manager that follows the log (docs/chains.md).
  const binder = startChainBinding(store, domain, {
    info: (obj, message) => app.log.info(obj, message),
    warn: (obj, message) => app.log.warn(obj, message),
    error: (obj, message) => app.log.error(obj, message),
  });
  if (producers !== undefined)
    app.log.info(
      {
        producers: producers.length,
        mustSign: producers.filter((p) => p.mustSign).map((p) => p.id),
      },
      'producer signatures are checked',
    );
  if (generated !== undefined)
    app.log.info(
      { keyId: generated.keyId, publicKey: generated.publicKeyPath },
      'generated a signing key for attestations (set PROVENANT_SIGNING_KEY to use your own)',
    );
  if (config.attestation.keyless !== undefined)
    app.log.info(
      { fulcio: config.attestation.keyless.fulcioUrl },
      'attestations are signed keyless (Fulcio certificate for the OIDC identity token)',
    );
  let attestor: Attestor | undefined;
  if (config.attestation.attestOnStagePassed)
    attestor = startAttestor({ store, attestations, logger: app.log });
  try {
    if (runner !== undefined) {
      await runner.start();
      app.log.info(
        { readModels: readModelsDescription, projections: projections.length },
        standingByOnReadModels(runner)
          ? 'projections standing by: another process runs them on these read models'
          : 'projections running',
      );
    }
    await follower?.start();
    // With the tree on PostgreSQL, another node may have generated another key: every node needs the same one.
    if (transparency.generatedKey !== undefined)
      app.log[treeOnPostgres(config) ? 'warn' : 'info'](
        { keyFile: transparency.generatedKey, verifierKey: transparency.signer.verifierKey },
        `generated the note key checkpoints are signed with (set PROVENANT_LOG_KEY to use your own${treeOnPostgres(config) ? '; every node sharing a PostgreSQL tree store needs the same key file' : ''})`,
      );
  } catch (error) {
    await attestor?.stop();
    await binder.stop();
    await app.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown'): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true;
      app.log.info({ reason }, 'shutting down: finishing in-flight requests and appends');
      const timer = setTimeout(() => {
        app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
        process.exit(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
      await attestor?.stop();
      await binder.stop();
      await runner?.stop(); // the in-flight batch commits before the log closes
      await follower?.stop();
      await app.close(); // stops listening, ends live feeds, waits for in-flight requests, then closes the read models and the store
      clearTimeout(timer);
      app.log.info('stopped');
    })();
    return closing;
  };
  return { app, url, store, shutdown };
}
