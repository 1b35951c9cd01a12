// Who is asking: the authenticated caller of a request, and the permissions a
// route can declare. Shared by the HTTP edge (authentication sets
// `request.principal`, authorization checks the route's declared permission)
// and by the application (events record who asked).
import type { ProducerScope } from './scope.js';

/** What a route may declare as its permission (`config: { permission }`). */
export const permissions = [
  /** No authentication: health, readiness, public keys. */
  'public',
  /** Read units, receipts, events, definitions, read models, the log. */
  'read',
  /** Append events, receipts, JUnit reports (producers, scoped). */
  'ingest',
  /** Revoke a receipt. */
  'revoke',
  /** Create or change gates and stages. */
  'define',
  /** Issue attestations. */
  'attest',
  /** Export a unit's evidence. */
  'export',
  /** Verify attestations and exports. */
  'verify',
  /** Operate projections: dead letters, rebuilds. */
  'operate',
] as const;

export type Permission = (typeof permissions)[number];

export const roles = ['producer', 'reader', 'auditor', 'admin'] as const;
export type Role = (typeof roles)[number];

/** The authenticated caller. */
export interface Principal {
  /** Stable identifier: the token's name, the JWT's `iss`+`sub`, the certificate subject. */
  readonly id: string;
  /** How the caller authenticated. */
  readonly via: 'oidc' | 'token' | 'mtls' | 'anonymous';
  readonly roles: readonly Role[];
  /**
   * What a producer may ingest (src/security/scope.ts). Set for principals with
   * the `producer` role; ignored when another role (admin) grants `ingest` too.
   */
  readonly scope?: ProducerScope;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by authentication before any handler runs; undefined only on `public` routes. */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** The one place a route states what it needs. */
    permission?: Permission;
  }
}
