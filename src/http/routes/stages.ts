// Stages over HTTP (issue 4 §3): an ordered set of gates with optional
// prerequisite stages (DESIGN.md §1). Define or update (PUT, versioned), list,
// read, disable; the domain service decides, this file maps HTTP to it.
import type { FastifyInstance } from 'fastify';
import type { StageView } from '../../application/index.js';
import type { StageDefinitionBody } from '../../domain/index.js';
import type { RouteDeps } from '../deps.js';
import { stageViewSchema } from '../schemas.js';
import { definitionIdParams, definitionRoutes } from '../definitionRoutes.js';

/** Path parameter of every stage route. */
export const stageIdParams = definitionIdParams('stage');

export function stageRoutes(app: FastifyInstance, deps: RouteDeps): void {
  definitionRoutes<StageDefinitionBody, StageView>(app, deps, {
    kind: 'stage',
    tag: 'stages',
    viewSchema: stageViewSchema,
    bodySchema: 'StageDefinitionBody',
    invalidIdCode: 'DOMAIN_INVALID_STAGE',
    notFoundCode: 'DOMAIN_STAGE_NOT_FOUND',
    putDescription:
      'Creates the stage (201) or records a new version when the definition differs (200); an identical PUT records nothing ' +
      '(200, `changed: false`). Every gate and prerequisite stage must already be defined (DOMAIN_UNKNOWN_GATE, ' +
      'DOMAIN_UNKNOWN_STAGE) and prerequisites may not form a cycle (DOMAIN_STAGE_CYCLE). ' +
      'When all of a stage’s gates pass for a unit, the store records StagePassed for it.',
    putBadRequest: 'Invalid stage id or definition, unknown gate or stage, or a cycle',
    disableDescription:
      'A disabled stage is no longer evaluated and does not count as a prerequisite; it is never deleted, and PUT ' +
      'enables it again as a new version. Disabling a disabled stage records nothing (`changed: false`). ' +
      'The body, with an optional `reason`, may be omitted.',
    define: (domain, id, body, options) => domain.defineStage(id, body, options),
    list: (domain) => domain.listStages(),
    get: (domain, id) => domain.getStage(id),
    disable: (domain, id, reason, options) => domain.disableStage(id, reason, options),
  });
}
