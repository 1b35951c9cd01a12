// buildApp(deps): the whole HTTP API as a fastify instance, without listen()
// (STYLE.md §13), so tests drive it with inject() or a loopback socket.
//
// Route plugins live in src/http/routes/, one file per resource, each an async
// function `(scope, deps)` registered below in its own encapsulated scope. No route
// file imports another; what they share lives beside this file.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { createAttestationService } from '../application/attestations/index.js';
import { createDomainService } from '../application/index.js';
import { ProvenantError } from '../errors.js';
import { installAuth, withSafeRequestLogs } from './auth.js';
import { DEFAULT_LIMITS, type AppDeps, type RouteDeps } from './deps.js';
import { useGuardedJson } from './jsonBody.js';
import { fromFastifyError, handleError, sendProblem } from './problem.js';
import { registerApiSchemas } from './schemas.js';
import { healthRoutes } from './routes/health.js';
import { logRoutes } from './routes/log.js';
import { eventRoutes } from './routes/events.js';
import { junitRoutes } from './routes/junit.js';
import { gateRoutes } from './routes/gates.js';
import { receiptRoutes } from './routes/receipts.js';
import { stageRoutes } from './routes/stages.js';
import { unitRoutes } from './routes/units.js';
import { attestationRoutes } from './routes/attestations.js';
import { verifyRoutes } from './routes/verify.js';
import { exportRoutes } from './routes/export.js';
import { createMetrics, installMetricHooks } from './metrics.js';
import { queryRoutes } from './routes/queries.js';
import { attestationSearchRoutes } from './routes/attestationSearch.js';
import { liveFeedRoutes } from './routes/liveFeed.js';
import { metricsRoutes } from './routes/metrics.js';
import { chainRoutes } from './routes/chains.js';
import { DEFAULT_ABUSE_LIMITS } from '../security/abuseLimits.js';
import { applyServerLimits, installAbuseLimits } from './abuseLimits.js';
import { clientErrorHandler } from './clientErrors.js';
import { trackRouteMethods } from './methodNotAllowed.js';
import { strictSchemaController } from './strictValidation.js';
import { transparencyRoutes } from './routes/transparency.js';

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Explicit, never implied: tests and tools that do not test auth pass anonymousAuth().
  if ((deps.auth as AppDeps['auth'] | undefined) === undefined)
    throw new Error('buildApp: deps.auth is required (anonymousAuth() for development)');
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const trustedProxies = deps.trustedProxies ?? [];
  const app = Fastify({
    // HTTPS when given a certificate (the client certificate, if any, is checked
    // by authentication, so that a missing one is a 401 problem, not a TLS alert).
    ...(deps.https === undefined ? {} : { https: deps.https }),
    // X-Forwarded-* count only from these peers; from any other, auth.ts refuses them.
    ...(trustedProxies.length === 0 ? {} : { trustProxy: [...trustedProxies] }),
    logger: withSafeRequestLogs(deps.logger ?? false),
    bodyLimit: limits.bodyBytes,
    // Defence in depth: the JSON parser below already refuses these keys.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    forceCloseConnections: 'idle',
    // A URL-encoded unit key in one segment (`/v1/units/{key}/attestations`) is
    // longer than find-my-way's default of 100 characters.
    routerOptions: { maxParamLength: 1024 },
    // Errors of the router itself (bad percent-escapes, over-long parameters)
    // leave as problem+json like every other error.
    frameworkErrors: (error, request, reply) => {
      void sendProblem(
        reply,
        fromFastifyError(error) ?? new ProvenantError('HTTP_BAD_REQUEST', error.message),
        request,
      );
    },
    return503OnClosing: true,
    // Errors of the HTTP parser (before routing) as problem+json too.
    clientErrorHandler,
    // Bodies are validated without type coercion; querystrings and params with it.
    schemaController: strictSchemaController(),
    ajv: {
      customOptions: {
        removeAdditional: false,
        useDefaults: true,
        allErrors: false,
      },
    },
  }) as unknown as FastifyInstance;
  const abuse = deps.abuse ?? DEFAULT_ABUSE_LIMITS;
  applyServerLimits(app.server, abuse.server);
  const methodsOf = trackRouteMethods(app);

  app.setErrorHandler(handleError);
  // Before any route: every route must declare its permission, every request is checked.
  installAuth(app, { authenticator: deps.auth, trustedProxies });
  useGuardedJson(app);
  app.setNotFoundHandler((request, reply) => {
    const allowed = methodsOf(request.url.split('?')[0] ?? '');
    if (allowed.length > 0)
      return sendProblem(
        reply.header('allow', allowed.join(', ')),
        new ProvenantError(
          'HTTP_METHOD_NOT_ALLOWED',
          `${request.method} is not served here; allowed: ${allowed.join(', ')}`,
          { details: { allowed } },
        ),
        request,
      );
    return sendProblem(
      reply,
      new ProvenantError('HTTP_NOT_FOUND', `No route for ${request.method} ${request.url}`),
      request,
    );
  });
  if (deps.ownsStore === true) app.addHook('onClose', async () => deps.store.close());
  // While draining, every response closes its connection, so keep-alive clients
  // move off this instance and the server can finish closing.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (deps.isShuttingDown?.() === true) void reply.header('connection', 'close');
    done(null, payload);
  });

  await installAbuseLimits(app, abuse);

  await app.register(swagger, {
    // Name schema components after their $id (…/GateDefinitionBody.json →
    // GateDefinitionBody) rather than def-0, def-1...
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string'
          ? (json.$id.split('/').pop() ?? '')
              .replace(/\.json$/, '')
              .replace(/[^A-Za-z0-9._-]/g, '_')
          : `def-${i}`,
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Provenant',
        description: 'Event-sourced audit and provenance store for software delivery pipelines',
        version: deps.version ?? '0.0.0',
      },
      tags: [
        { name: 'operations', description: 'Health and readiness' },
        { name: 'log', description: 'The append-only event log' },
        { name: 'ingest', description: 'CloudEvents, CDEvents and JUnit reports in' },
        { name: 'gates', description: 'Gate definitions: versioned, disabled, never deleted' },
        { name: 'stages', description: 'Stage definitions: ordered gates and prerequisite stages' },
        { name: 'receipts', description: 'Receipts: revocation with a reason' },
        { name: 'units', description: 'Unit status and re-evaluation' },
        {
          name: 'attestations',
          description: 'Signed in-toto attestations: issue, list, download, verify',
        },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const metrics = createMetrics({
    projectionStatus: deps.projectionStatus,
    witnessStatus: deps.witnessStatus,
    leadership: deps.leadership,
  });
  installMetricHooks(app, metrics.registry);
  const store = metrics.timedStore(deps.store);
  const routeDeps: RouteDeps = {
    ...deps,
    store,
    domain: deps.domain ?? createDomainService({ eventStore: store }),
    attestations:
      deps.attestations ??
      createAttestationService({
        eventStore: store,
        maxEventBytes: limits.eventBytes,
        ...(deps.transparency === undefined ? {} : { transparency: deps.transparency }),
      }),
    limits,
    metrics: metrics.registry,
  };
  // The API's shared schemas (bodies, problem details) are visible to every scope.
  registerApiSchemas(app);
  // Each resource's routes in a scope of its own (fastify encapsulation): what one
  // registers (parsers, error handlers, schemas) stays out of the others.
  const routes: ((scope: FastifyInstance, deps: RouteDeps) => void | Promise<void>)[] = [
    healthRoutes,
    logRoutes,
    eventRoutes,
    junitRoutes,
    gateRoutes,
    stageRoutes,
    receiptRoutes,
    unitRoutes,
    attestationRoutes,
    attestationSearchRoutes,
    verifyRoutes,
    exportRoutes,
    queryRoutes,
    liveFeedRoutes,
    metricsRoutes,
    chainRoutes,
    transparencyRoutes,
  ];
  for (const plugin of routes)
    await app.register((scope, _options, done) => {
      Promise.resolve(plugin(scope, routeDeps)).then(() => done(), done);
    });
  return app;
}
