// The metrics listener of `provenant projections run`, when PROVENANT_METRICS_PORT
// (or --metrics-port) asks for one: a fastify app (src/http/workerApp.ts) on
// PROVENANT_METRICS_HOST (127.0.0.1 by default) serving the projection, Merkle
// log and leadership metrics shared with `provenant serve` (src/metrics/registry.ts),
// under the API's authentication. Closed by the runner before it stops.
import type { FastifyInstance } from 'fastify';
import { loadAuthenticator } from '../compositionAuth.js';
import type { Config } from '../config.js';
import { listenOn } from '../http/listen.js';
import { buildWorkerApp } from '../http/workerApp.js';
import {
  createRegistry,
  registerRunnerMetrics,
  type RunnerMetricSources,
} from '../metrics/registry.js';

export interface MetricsListener {
  /** Starts listening; resolves with the URL bound (useful with port 0). */
  listen(): Promise<string>;
  /** Stops listening (open connections are closed). Idempotent. */
  close(): Promise<void>;
}

/**
 * The listener the configuration asks for, or undefined without a metrics port.
 * The principals file is read here, so a bad one refuses to start before any work.
 */
export function createMetricsListener(
  config: Config,
  sources: RunnerMetricSources,
  warn: (message: string) => void,
): MetricsListener | undefined {
  const { host, port } = config.metrics;
  if (port === undefined) return undefined;
  const auth = loadAuthenticator(config);
  const registry = createRegistry();
  registerRunnerMetrics(registry, sources);
  const app: FastifyInstance = buildWorkerApp({
    registry,
    auth,
    trustedProxies: config.trustedProxies,
    serverLimits: config.abuse.server,
  });
  return {
    async listen() {
      const url = await listenOn(app, host, port, {
        host: 'PROVENANT_METRICS_HOST (--metrics-host)',
        port: 'PROVENANT_METRICS_PORT (--metrics-port)',
      });
      if (auth.mode.anonymous)
        warn(
          'DEVELOPMENT MODE (PROVENANT_AUTH_ANONYMOUS): anyone who reaches the metrics listener may read /metrics',
        );
      else if (auth.mode.methods.length === 0)
        warn(
          'no authentication is configured: /metrics answers 401 (set PROVENANT_AUTH_FILE or PROVENANT_AUTH_OIDC_ISSUER; a principal with the operate permission scrapes it)',
        );
      return url;
    },
    async close() {
      await app.close();
    },
  };
}
