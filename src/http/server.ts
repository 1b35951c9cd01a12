// Runs the HTTP server on the configured store until SIGTERM/SIGINT, then shuts
// down gracefully: readiness goes false, the listener stops, in-flight requests
// and appends finish, the database closes.
import type { FastifyInstance } from 'fastify';
import { openEventStore } from '../composition.js';
import type { Config } from '../config.js';
import type { EventStore } from '../eventStore/types.js';
import { buildApp } from './app.js';
import type { AppDeps } from './deps.js';

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
  const { store, description } = openEventStore(config);
  let shuttingDown = false;
  const app = await buildApp({
    ...extras,
    store,
    storeDescription: description,
    limits: config.limits,
    ownsStore: true,
    isShuttingDown: () => shuttingDown,
    version,
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
  });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address();
  const url =
    typeof address === 'object' && address !== null
      ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : String(address);
  app.log.info({ store: description, url }, 'provenant is serving');

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
      await app.close(); // stops listening, waits for in-flight requests, then closes the store (onClose)
      clearTimeout(timer);
      app.log.info('stopped');
    })();
    return closing;
  };
  return { app, url, store, shutdown };
}
