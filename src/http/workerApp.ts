// The metrics listener of `provenant projections run` (docs/projections.md,
// "Metrics of the worker"): GET /metrics, the worker's registry in the
// Prometheus text format (src/metrics/registry.ts names what it holds), under
// the `operate` permission as on the API, and GET /healthz (public). Built apart
// from `listen()`, like the API's app; the same authentication, trusted proxies
// and connection limits.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { AbuseLimits } from '../security/abuseLimits.js';
import type { Authenticator } from '../security/index.js';
import { applyServerLimits } from './abuseLimits.js';
import { installAuth } from './auth.js';
import { handleError } from './problem.js';

export interface WorkerAppDeps {
  /** The worker's registry (never prom-client's global one). */
  registry: Registry;
  auth: Authenticator;
  trustedProxies?: readonly string[];
  /** Timeouts and the connection cap (the API's, PROVENANT_*_TIMEOUT_MS). */
  serverLimits?: AbuseLimits['server'];
}

export function buildWorkerApp(deps: WorkerAppDeps): FastifyInstance {
  const trustedProxies = deps.trustedProxies ?? [];
  const app = Fastify({
    ...(trustedProxies.length === 0 ? {} : { trustProxy: [...trustedProxies] }),
    logger: false,
    forceCloseConnections: true,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  if (deps.serverLimits !== undefined) applyServerLimits(app.server, deps.serverLimits);
  app.setErrorHandler(handleError);
  // Before any route: every route declares its permission, every request is checked.
  installAuth(app, { authenticator: deps.auth, trustedProxies });

  // Liveness: the worker serves HTTP (while it closes, fastify answers 503).
  app.get('/healthz', { config: { permission: 'public' } }, () => ({ status: 'ok' }));
  app.get('/metrics', { config: { permission: 'operate' } }, async (_request, reply) => {
    const body = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(body);
  });
  return app;
}
