// Liveness and readiness. /healthz: the process serves HTTP. /readyz: the log
// answers and the server is not shutting down (load balancers stop routing here);
// it names the authentication methods and warns of development mode.
import type { FastifyInstance } from 'fastify';
import { ANONYMOUS_WARNING } from '../authMode.js';
import type { RouteDeps } from '../deps.js';

export function healthRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get(
    '/healthz',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Liveness',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the event log answers and the server is not shutting down',
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              store: { type: 'string' },
              auth: { type: 'array', items: { type: 'string' } },
              warning: { type: 'string' },
            },
          },
          503: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              store: { type: 'string' },
              reason: { type: 'string' },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      if (deps.isShuttingDown?.() === true)
        return reply
          .code(503)
          .send({ status: 'unavailable', store: deps.storeDescription, reason: 'shutting down' });
      const ready = await deps.store.isReady().catch(() => false);
      if (!ready)
        return reply.code(503).send({
          status: 'unavailable',
          store: deps.storeDescription,
          // Unreachable or damaged: the store's own words say which, when it knows.
          reason: `event store not ready${describeProblem(deps.store.problem?.())}`,
        });
      // How callers authenticate, and the development-mode warning when anyone is admin.
      const { anonymous, methods } = deps.auth.mode;
      return {
        status: 'ready',
        store: deps.storeDescription,
        auth: anonymous ? [...methods, 'anonymous'] : methods,
        ...(anonymous ? { warning: ANONYMOUS_WARNING } : {}),
      };
    },
  );
}

const describeProblem = (problem: string | undefined): string =>
  problem === undefined ? '' : `: ${problem}`;
