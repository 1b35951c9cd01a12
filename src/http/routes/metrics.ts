// GET /metrics: this app's Prometheus registry in the text exposition format
// (src/http/metrics.ts and src/metrics/registry.ts name what it holds).
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.js';

export function metricsRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get(
    '/metrics',
    {
      config: { permission: 'operate' },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description:
          'Request durations by route, ingest requests by outcome and problem code, event-store append latency, ' +
          'per projection (when the runner runs in this process) lag, parked events and checkpoint, ' +
          'checkpoint witness posts per witness, and the leadership locks this process holds (PostgreSQL; the SQLite signer lock).',
      },
    },
    async (_request, reply) => {
      const body = await deps.metrics.metrics();
      return reply.type(deps.metrics.contentType).send(body);
    },
  );
}
