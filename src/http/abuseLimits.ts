// Abuse limits at the HTTP edge (issue 15, docs/security.md "Limits"):
// - per-principal rate limits (`@fastify/rate-limit`, 429 + Retry-After), keyed
//   by the authenticated principal, or the client address when anonymous;
// - a bounded ingest queue: ingest requests in progress are counted, overall
//   (503 + Retry-After when full) and per principal (429 + Retry-After), so a
//   flood from one producer neither grows memory nor starves the others;
// - connection, header and request timeouts and a cap on connections, set on the
//   Node server (for HTTP and HTTPS alike).
// Both hooks run at `preParsing`: after authentication (`onRequest`) has set the
// principal, before a body is read.
import type { Server } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProvenantError } from '../errors.js';
import type { AbuseLimits } from '../security/abuseLimits.js';

/** Who a request counts against: its principal, or its address when anonymous. */
export const limitKeyOf = (request: FastifyRequest): string => request.principal?.id ?? request.ip;

// Routes that append what producers send. Routes declare `permission: 'ingest'`
// (src/security/principal.ts); the paths cover routes registered before they did.
const INGEST_ROUTES = new Set(['POST /v1/events', 'POST /v1/units/:key/actions/:action/junit']);
const PUBLIC_ROUTES = new Set(['/healthz', '/readyz']);

const isIngest = (request: FastifyRequest): boolean =>
  request.routeOptions.config.permission === 'ingest' ||
  INGEST_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`);

const isPublic = (request: FastifyRequest): boolean =>
  request.routeOptions.config.permission === 'public' ||
  PUBLIC_ROUTES.has(request.routeOptions.url ?? '');

/** Registers the rate limit and the ingest queue on `app` (before its routes). */
export async function installAbuseLimits(app: FastifyInstance, limits: AbuseLimits): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    max: limits.rateLimit.max,
    timeWindow: limits.rateLimit.windowMs,
    // Bounded: at most this many callers are tracked at once (least recently seen dropped).
    cache: 10_000,
    keyGenerator: limitKeyOf,
    // Health and readiness answer whatever the load.
    allowList: (request) => isPublic(request),
    errorResponseBuilder: (_request, context) =>
      new ProvenantError(
        'HTTP_RATE_LIMITED',
        `Rate limit of ${context.max} requests per ${context.after} reached; retry later`,
        { details: { limit: context.max, window: context.after } },
      ),
  });

  const { max, perPrincipal } = limits.ingestQueue;
  let inFlight = 0;
  const perKey = new Map<string, number>();
  // Thrown to the error handler (problem+json); the header set here stays on the reply.
  const reject = (reply: FastifyReply, error: ProvenantError): never => {
    void reply.header('retry-after', String(limits.retryAfterSeconds));
    throw error;
  };

  app.addHook('preParsing', async (request, reply, payload) => {
    if (!isIngest(request)) return payload;
    const key = limitKeyOf(request);
    const mine = perKey.get(key) ?? 0;
    if (inFlight >= max)
      reject(
        reply,
        new ProvenantError('HTTP_OVERLOADED', `The ingest queue is full (${max} in progress)`, {
          details: { queue: max },
        }),
      );
    if (mine >= perPrincipal)
      reject(
        reply,
        new ProvenantError(
          'HTTP_RATE_LIMITED',
          `Too many ingest requests in progress for this caller (${perPrincipal})`,
          { details: { inProgress: perPrincipal } },
        ),
      );
    inFlight++;
    perKey.set(key, mine + 1);
    let released = false;
    // 'close' fires once the response is sent or the connection is gone.
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      inFlight--;
      const left = (perKey.get(key) ?? 1) - 1;
      if (left <= 0) perKey.delete(key);
      else perKey.set(key, left);
    });
    return payload;
  });
}

/** Sets the timeouts and the connection cap on the Node server (before `listen`). */
export function applyServerLimits(server: Server, limits: AbuseLimits['server']): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.setTimeout(limits.idleTimeoutMs);
  server.maxConnections = limits.maxConnections;
  // Read when the server starts listening; Node's default checks only every 30 s.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    limits.timeoutCheckIntervalMs;
}
