// Prometheus metrics of one app (a registry per app instance, never prom-client's
// global one, so two apps in one process — tests — never share counters):
// request durations by route, ingest outcomes by problem code, event-store append
// latency (a timing decorator around the store's `append`) and, when the
// projection runner runs in this process, lag and parked events per projection,
// and the checkpoint witness URL's posts by outcome.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventStore } from '../eventStore/types.js';
import type { ProjectionStatus } from '../readModels/runner.js';
import type { WitnessStats } from '../transparency/witness/index.js';
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

export function createMetrics(
  projectionStatus: (() => Promise<ProjectionStatus[]>) | undefined,
  witnessStatus?: () => WitnessStats | undefined,
): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'provenant_process_' });
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
  const statusGauge = (name: string, help: string, pick: (s: ProjectionStatus) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['projection'],
      registers: [registry],
      async collect() {
        if (projectionStatus === undefined) return;
        this.reset();
        for (const status of await projectionStatus())
          this.set({ projection: status.name }, pick(status));
      },
    });
  };
  statusGauge(
    'provenant_projection_lag',
    'Log positions not yet applied by the projection (head - checkpoint)',
    (s) => Number(s.lag),
  );
  statusGauge(
    'provenant_projection_parked',
    'Events parked (dead letters) of the projection',
    (s) => s.parked,
  );
  statusGauge('provenant_projection_checkpoint', 'Last log position the projection applied', (s) =>
    Number(s.checkpoint),
  );

  new Counter({
    name: 'provenant_checkpoint_witness_posts_total',
    help: 'Checkpoints handed to the witness URL by outcome (posted: accepted, with tlog-witness cosigned, verified and recorded; failed; superseded by a newer one)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const stats = witnessStatus?.();
      if (stats === undefined) return;
      this.reset();
      this.inc({ outcome: 'posted' }, stats.posted);
      this.inc({ outcome: 'failed' }, stats.failed);
      this.inc({ outcome: 'superseded' }, stats.superseded);
    },
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
