// Gates over HTTP (issue 4 §3): define or update (PUT, a new version each time the
// definition changes), list, read, disable. Gates are versioned and never deleted
// (DESIGN.md §1); the domain service decides, this file only maps HTTP to it.
import type { FastifyInstance } from 'fastify';
import type { GateView } from '../../application/index.js';
import type { GateDefinitionBody } from '../../domain/index.js';
import type { RouteDeps } from '../deps.js';
import { gateViewSchema } from '../schemas.js';
import { definitionIdParams, definitionRoutes } from '../definitionRoutes.js';

/** Path parameter of every gate route. */
export const gateIdParams = definitionIdParams('gate');

export function gateRoutes(app: FastifyInstance, deps: RouteDeps): void {
  definitionRoutes<GateDefinitionBody, GateView>(app, deps, {
    kind: 'gate',
    tag: 'gates',
    viewSchema: gateViewSchema,
    bodySchema: 'GateDefinitionBody',
    invalidIdCode: 'DOMAIN_INVALID_GATE',
    notFoundCode: 'DOMAIN_GATE_NOT_FOUND',
    putDescription:
      'Creates the gate (201) or records a new version when the definition differs from the current one (200). ' +
      'An identical PUT records nothing and answers 200 with `changed: false`. PUT on a disabled gate enables it as a new version. ' +
      'A `customSchema` is compiled in ajv strict mode at definition time; remote `$ref` and `$data` are rejected (DOMAIN_INVALID_GATE_SCHEMA). ' +
      'New definitions apply from then on; POST /v1/units/{key}/evaluate re-evaluates a unit under them.',
    putBadRequest: 'Invalid gate id, definition or custom schema',
    disableDescription:
      'A disabled gate is no longer evaluated; it is never deleted, and PUT enables it again as a new version. ' +
      'Disabling a disabled gate records nothing (`changed: false`). The body, with an optional `reason`, may be omitted.',
    define: (domain, id, body, options) => domain.defineGate(id, body, options),
    list: (domain) => domain.listGates(),
    get: (domain, id) => domain.getGate(id),
    disable: (domain, id, reason, options) => domain.disableGate(id, reason, options),
  });
}
