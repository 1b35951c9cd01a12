// Receipt revocation over HTTP (issue 4 §3). A receipt is never edited or deleted;
// a revocation is a later event that says why (DESIGN.md §1), and it may change
// verdicts: the response lists the GateReopened / StageReopened … it recorded.
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.js';
import {
  apiSchemaRef,
  commandOptions,
  problemResponse,
  registerApiSchemas,
  revokeResultSchema,
  validationErrors,
} from '../schemas.js';

/** Path parameter: a receipt id, a ULID (generated) or a lower-case UUID (from a CloudEvent). */
export const receiptIdParams = {
  type: 'object',
  required: ['id'],
  properties: {
    id: {
      type: 'string',
      pattern:
        '^(?:[0-7][0-9A-HJKMNP-TV-Z]{25}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$',
      description:
        'Receipt id: a ULID, or the lower-case UUID v5 derived from the CloudEvent source and id',
    },
  },
} as const;

export function receiptRoutes(app: FastifyInstance, deps: RouteDeps): void {
  registerApiSchemas(app);

  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/v1/receipts/:id/revoke',
    {
      config: { permission: 'revoke' },
      schemaErrorFormatter: validationErrors(),
      schema: {
        tags: ['receipts'],
        summary: 'Revoke a receipt, with a reason',
        description:
          'The receipt stays in the log but no longer counts: the previous non-revoked receipt for its action counts again. ' +
          'Any verdict change (GateReopened, GateFailed, StageReopened …) is recorded in the same append and returned in `verdicts`. ' +
          'Unknown receipt: 404 DOMAIN_RECEIPT_NOT_FOUND; already revoked: 409 DOMAIN_RECEIPT_ALREADY_REVOKED.',
        params: receiptIdParams,
        body: apiSchemaRef('RevokeReceiptBody'),
        response: {
          200: revokeResultSchema,
          400: problemResponse('Invalid receipt id or body (a non-empty reason is required)'),
          404: problemResponse('No such receipt (DOMAIN_RECEIPT_NOT_FOUND)'),
          409: problemResponse('The receipt was already revoked (DOMAIN_RECEIPT_ALREADY_REVOKED)'),
        },
      },
    },
    async (request) =>
      deps.domain.revokeReceipt(request.params.id, request.body.reason, commandOptions(request)),
  );
}
