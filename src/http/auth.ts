// Authentication and authorization at the HTTP edge (docs/security.md). Three
// hooks on the root instance, before any route is registered:
//
//   onRoute    every route must declare `config: { permission }` (the swagger UI
//              under /docs is declared `public` here, its one exception); a route
//              without one refuses to register, so buildApp fails.
//   onRequest  refuses forged X-Forwarded-* / Forwarded headers (no trusted proxy
//              sent them) and credentials in the query string, authenticates the
//              caller into `request.principal`, then checks the route's permission
//              against the principal's roles.
//
// Failures answer problem+json at once (401 with WWW-Authenticate, 403, 400); the
// problem's `instance` is the path without the query, so a credential sent in the
// query string is never echoed back.
import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { ProvenantError } from '../errors.js';
import type { Actor } from '../application/ingest/types.js';
import {
  allows,
  ingestScopeOf,
  permissions,
  type Authenticator,
  type Credentials,
  type Permission,
} from '../security/index.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';

/** Where the swagger UI is served (its routes are registered by @fastify/swagger-ui). */
export const DOCS_PREFIX = '/docs';

/** Query parameters that carry credentials elsewhere; refused here, since URLs end up in access logs. */
export const CREDENTIAL_QUERY_PARAMETERS = [
  'access_token',
  'id_token',
  'token',
  'api_key',
  'apikey',
  'api-key',
  'auth',
  'authorization',
  'bearer',
  'jwt',
] as const;

const FORWARDING_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-real-ip',
];

export interface HttpAuthOptions {
  readonly authenticator: Authenticator;
  /** Addresses or CIDR ranges of the proxies allowed to send X-Forwarded-* (fastify `trustProxy`). */
  readonly trustedProxies?: readonly string[];
}

/** The trusted proxies as a node:net BlockList (`10.0.0.0/8`, `::1`, `192.168.1.5`). */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address) === 0) throw new Error(`not an IP address or CIDR range: ${entry}`);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

const peerTrusted = (list: BlockList, address: string | undefined): boolean => {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) return list.check(v4, 'ipv4');
  return isIP(address) === 6 && list.check(address, 'ipv6');
};

function credentialsOf(request: FastifyRequest): Credentials {
  const authorization = request.headers.authorization;
  const socket = request.raw.socket as Partial<TLSSocket>;
  const certificate =
    typeof socket.getPeerX509Certificate === 'function'
      ? socket.getPeerX509Certificate()
      : undefined;
  return {
    authorization,
    ...(certificate === undefined
      ? {}
      : { certificate: { authorized: socket.authorized === true, subject: certificate.subject } }),
  };
}

function refuse(request: FastifyRequest, reply: FastifyReply, error: ProvenantError): FastifyReply {
  const problem = toProblem(error, request.url.split('?')[0]);
  if (problem.status === 401)
    void reply.header(
      'www-authenticate',
      `Bearer realm="provenant", error="${error.code === 'AUTH_MISSING' ? 'invalid_request' : 'invalid_token'}"`,
    );
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** A registered route and the permission it declared. */
export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly permission: Permission;
}

const declared = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** Every route registered on `app` (as its onRoute hook saw them) with its permission. */
export const declaredRoutes = (app: FastifyInstance): readonly DeclaredRoute[] =>
  declared.get(app) ?? [];

/** Installs the permission check of every route and the authentication hook. Call before any route. */
export function installAuth(app: FastifyInstance, options: HttpAuthOptions): void {
  const { authenticator } = options;
  const trusted = trustedProxyList(options.trustedProxies ?? []);
  const routes: DeclaredRoute[] = [];
  declared.set(app, routes);

  app.addHook('onRoute', (route) => {
    let permission: unknown = route.config?.permission;
    if (permission === undefined && route.url.startsWith(DOCS_PREFIX)) {
      permission = 'public';
      route.config = { ...route.config, permission: 'public' };
    }
    if (typeof permission !== 'string' || !(permissions as readonly string[]).includes(permission))
      throw new Error(
        `Route ${String(route.method)} ${route.url} must declare config.permission (one of ${permissions.join(', ')})`,
      );
    for (const method of [route.method].flat())
      routes.push({ method, url: route.url, permission: permission as Permission });
  });

  app.addHook('onRequest', async (request, reply) => {
    const permission = request.routeOptions.config.permission;
    // No route matched: the not-found handler answers 404 without asking who it is.
    if (permission === undefined) return;
    if (
      FORWARDING_HEADERS.some((name) => request.headers[name] !== undefined) &&
      !peerTrusted(trusted, request.raw.socket.remoteAddress)
    )
      return refuse(
        request,
        reply,
        new ProvenantError(
          'HTTP_FORWARDED_UNTRUSTED',
          'X-Forwarded-* and Forwarded headers are accepted only from a trusted proxy (PROVENANT_TRUSTED_PROXIES)',
        ),
      );
    const query = request.query;
    if (typeof query === 'object' && query !== null) {
      const names = Object.keys(query).map((name) => name.toLowerCase());
      const found = CREDENTIAL_QUERY_PARAMETERS.find((name) => names.includes(name));
      if (found !== undefined)
        return refuse(
          request,
          reply,
          new ProvenantError(
            'AUTH_TOKEN_IN_QUERY',
            `Credentials are never accepted in the query string (${found}): send them in the Authorization header`,
            { details: { parameter: found } },
          ),
        );
    }
    if (permission === 'public') return;
    try {
      request.principal = await authenticator.authenticate(credentialsOf(request));
    } catch (error) {
      if (error instanceof ProvenantError) return refuse(request, reply, error);
      throw error;
    }
    if (!allows(request.principal, permission))
      return refuse(
        request,
        reply,
        new ProvenantError(
          'AUTH_FORBIDDEN',
          `${request.principal.id} may not ${permission} (roles: ${request.principal.roles.join(', ') || 'none'})`,
          { details: { permission, roles: request.principal.roles } },
        ),
      );
  });
}

/** The request's principal as the application takes it: its id, and the scope ingest must hold it to. */
export function actorOf(request: FastifyRequest): Actor | undefined {
  const { principal } = request;
  if (principal === undefined) return undefined;
  const scope = ingestScopeOf(principal);
  return { principal: principal.id, ...(scope === undefined ? {} : { scope }) };
}

/** `url` with the value of every credential-looking query parameter replaced by `[redacted]`. */
export function redactCredentials(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const params = url
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decodeURIComponentSafe(eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
      return eq >= 0 && (CREDENTIAL_QUERY_PARAMETERS as readonly string[]).includes(name)
        ? `${pair.slice(0, eq)}=[redacted]`
        : pair;
    });
  return `${url.slice(0, query)}?${params.join('&')}`;
}

const decodeURIComponentSafe = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/**
 * The logger options with a request serializer that never writes a credential
 * sent in the query string (refused, but the request line is logged first).
 */
export function withSafeRequestLogs(
  logger: FastifyServerOptions['logger'],
): FastifyServerOptions['logger'] {
  if (logger === false || logger === undefined) return logger;
  const options = logger === true ? {} : logger;
  return {
    ...options,
    serializers: {
      ...options.serializers,
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactCredentials(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket.remotePort,
      }),
    },
  };
}
