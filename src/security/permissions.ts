// Which role may do what: the one table authorization reads (docs/security.md).
// A principal may hold several roles; it is allowed what any of them allows.
import type { Permission, Principal, Role } from './principal.js';
import type { ProducerScope } from './scope.js';

/** What each role may do. `public` needs no role (and no authentication). */
export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  /** Pipelines: record events, receipts and JUnit reports, within their scope. */
  producer: ['ingest'],
  /** Dashboards, release tooling: read everything, change nothing. */
  reader: ['read'],
  /** Auditors: read, export evidence, verify, manage projections and dead letters. */
  auditor: ['read', 'export', 'verify', 'operate'],
  /** Administrators: everything, including gates, stages, revocations and attestations. */
  admin: ['read', 'ingest', 'revoke', 'define', 'attest', 'export', 'verify', 'operate'],
};

/** True when `principal` (undefined: nobody authenticated) may use a route declaring `permission`. */
export function allows(principal: Principal | undefined, permission: Permission): boolean {
  if (permission === 'public') return true;
  return principal?.roles.some((role) => rolePermissions[role].includes(permission)) === true;
}

/**
 * The scope ingest must check for `principal`: none when a role other than
 * `producer` grants `ingest` (an admin is not limited), the producer's scope
 * otherwise (a producer without one may record nothing).
 */
export function ingestScopeOf(principal: Principal): ProducerScope | undefined {
  const unrestricted = principal.roles.some(
    (role) => role !== 'producer' && rolePermissions[role].includes('ingest'),
  );
  if (unrestricted) return undefined;
  return principal.scope ?? { sources: [], types: [], actions: [], units: [] };
}
