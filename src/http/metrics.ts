// Prometheus metrics of one app (a registry per app instance, never prom-client's
// global one, so two apps in one process — tests — never share counters):
// request durations by route, ingest outcomes by problem code and event-store
// append latency (a timing decorator around the store's `append`), plus the
// metrics shared with `provenant projections run` (src/metrics/registry.ts):
// when the projection runner runs in this process, lag and parked events per
// projection, the checkpoint witness URL's posts by outcome and, on PostgreSQL,
// the leadership locks held.
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { EventStore } from '../eventStore/types.js';
import {
  createRegistry,
  registerRunnerMetrics,
  type RunnerMetricSources,
} from '../metrics/registry.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

/** Routes whose replies count as ingest outcomes. */
const INGEST_ROUTES = new Set(['POST /v1/events', 'POST /v1/units/:key/actions/:action/junit']);

const outcomeOf = (status: number): string =>
  status === 201
    ? 'appended'
    : status === 200
      ? 'ok'
      : status === 409
        ? 'conflict'
        : status < 500
          ? 'rejected'
          : 'failed';

export interface AppMetrics {
  registry: Registry;
  /** The store with `append` timed into `provenant_event_store_append_seconds`. */
  timedStore: (store: EventStore) => EventStore;
}

export function createMetrics(sources: RunnerMetricSources): AppMetrics {
  const registry = createRegistry();
  registerRunnerMetrics(registry, sources);
  const appendSeconds = new Histogram({
    name: 'provenant_event_store_append_seconds',
    help: 'Latency of event-store appends',
    labelNames: ['outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  new Histogram({
    name: 'provenant_http_request_duration_seconds',
    help: 'HTTP request durations by route',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Counter({
    name: 'provenant_ingest_requests_total',
    help: 'Ingest requests by route, outcome and problem code (empty when none)',
    labelNames: ['route', 'outcome', 'code'],
    registers: [registry],
  });

  const timedStore = (store: EventStore): EventStore =>
    new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'append') {
          const append: EventStore['append'] = async (stream, events, options) => {
            const end = appendSeconds.startTimer();
            try {
              const result = await target.append(stream, events, options);
              end({ outcome: 'ok' });
              return result;
            } catch (error) {
              end({ outcome: 'error' });
              throw error;
            }
          };
          return append;
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
  return { registry, timedStore };
}

/** The root hooks that feed the request and ingest metrics. */
export function installMetricHooks(app: FastifyInstance, registry: Registry): void {
  const durations = registry.getSingleMetric(
    'provenant_http_request_duration_seconds',
  ) as Histogram;
  const ingest = registry.getSingleMetric('provenant_ingest_requests_total') as Counter;
  const codes = new WeakMap<object, string>();
  app.addHook('onSend', (request, reply, payload, done) => {
    const type = reply.getHeader('content-type');
    if (
      reply.statusCode >= 400 &&
      typeof type === 'string' &&
      type.startsWith(PROBLEM_CONTENT_TYPE)
    )
      if (typeof payload === 'string') {
        const match = /"code":"([A-Z0-9_]+)"/.exec(payload);
        if (match?.[1] !== undefined) codes.set(request, match[1]);
      }
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    durations.observe(labels, reply.elapsedTime / 1000);
    const key = `${request.method} ${route}`;
    if (INGEST_ROUTES.has(key))
      ingest.inc({ route, outcome: outcomeOf(reply.statusCode), code: codes.get(request) ?? '' });
    done();
  });
}
