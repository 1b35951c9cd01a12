// Runs the HTTP server on the configured store until SIGTERM/SIGINT, then shuts
// down gracefully: readiness goes false, the listener stops, in-flight requests
// and appends finish, the database closes.
import type { FastifyInstance } from 'fastify';
import { projections } from '../../projections/index.js';
import { openEventStore, openReadModels } from '../composition.js';
import type { Config } from '../config.js';
import { createProjectionRunner, type ProjectionRunner } from '../readModels/runner.js';
import { buildApp } from './app.js';

export interface RunningServer {
  app: FastifyInstance;
  /** The address actually bound (useful with port 0). */
  url: string;
  /** Graceful shutdown; resolves when everything is closed. Idempotent. */
  shutdown(reason?: string): Promise<void>;
}

export async function startServer(config: Config, version = '0.0.0'): Promise<RunningServer> {
  const { store, description } = openEventStore(config);
  let shuttingDown = false;
  // The read models serve the query API in every mode; the runner keeps them
  // current in this process unless PROVENANT_PROJECTIONS=off (then another does).
  const warnings: string[] = [];
  const { readModels, description: readModelsDescription } = openReadModels(config, (message) =>
    warnings.push(message),
  );
  // The tables exist before the first query (the runner fills them once started).
  for (const projection of projections) await readModels.ensureProjection(projection);
  // The runner logs through the app, built after it.
  const logTo: { app?: FastifyInstance } = {};
  const runner: ProjectionRunner | undefined =
    config.readModels.projections === 'off'
      ? undefined
      : createProjectionRunner({
          eventStore: store,
          readModels,
          projections,
          log: (level, message, fields) => logTo.app?.log[level](fields ?? {}, message),
        });
  const server = await buildApp({
    store,
    storeDescription: description,
    limits: config.limits,
    ownsStore: true,
    isShuttingDown: () => shuttingDown,
    version,
    readModels,
    ...(runner === undefined ? {} : { projectionStatus: () => runner.status() }),
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
  });
  logTo.app = server;
  for (const warning of warnings) server.log.warn(warning);
  server.addHook('onClose', async () => readModels.close());
  try {
    await server.listen({ host: config.host, port: config.port });
  } catch (error) {
    await server.close();
    throw error;
  }
  const address = server.server.address();
  const url =
    typeof address === 'object' && address !== null
      ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : String(address);
  server.log.info({ store: description, url }, 'provenant is serving');
  try {
    if (runner !== undefined) {
      await runner.start();
      server.log.info(
        { readModels: readModelsDescription, projections: projections.length },
        'projections running',
      );
    }
  } catch (error) {
    await server.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown'): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true;
      server.log.info({ reason }, 'shutting down: finishing in-flight requests and appends');
      const timer = setTimeout(() => {
        server.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
        process.exit(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
      await runner?.stop(); // the in-flight batch commits before the log closes
      await server.close(); // stops listening, ends live feeds, waits for in-flight requests, then closes the read models and the store
      clearTimeout(timer);
      server.log.info('stopped');
    })();
    return closing;
  };
  return { app: server, url, shutdown };
}
