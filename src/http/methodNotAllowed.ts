// 405 with `Allow` for a known path asked with a method it does not serve (RFC 9110
// §15.5.6); 404 stays for paths nothing serves. fastify's router answers both as
// "not found", so the app remembers every route's path and methods (`onRoute`)
// and the not-found handler asks which methods the path has.
import type { FastifyInstance } from 'fastify';

interface KnownPath {
  readonly pattern: RegExp;
  readonly methods: Set<string>;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A route URL (`/v1/units/:key/attestations`, `/docs/*`) as a whole-path expression. */
export function routePattern(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : escape(part)))
    .join('');
  return new RegExp(`^${source}/?$`);
}

/** Records the routes as they are added; returns the methods a path is served with. */
export function trackRouteMethods(app: FastifyInstance): (path: string) => string[] {
  const known = new Map<string, KnownPath>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let entry = known.get(route.url);
    if (entry === undefined) {
      entry = { pattern: routePattern(route.url), methods: new Set() };
      known.set(route.url, entry);
    }
    for (const method of methods) entry.methods.add(method.toUpperCase());
  });
  return (path) => {
    const allowed = new Set<string>();
    for (const { pattern, methods } of known.values())
      if (pattern.test(path)) for (const method of methods) allowed.add(method);
    return [...allowed].sort();
  };
}
