// POST /v1/events: CloudEvents over HTTP in structured, binary and batch mode
// (DESIGN.md §4; https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md).
//
// The route takes the RAW body: its own content-type parser (encapsulated in this
// plugin, so other routes keep fastify's JSON parser) hands every body over as a
// Buffer, and `src/ingest` does the limits, safe JSON parsing, strict validation
// and classification. The work is in the application's `ingestCloudEvents` use case.
//
//   structured / binary  201 + the outcome when appended; 200 + the ORIGINAL
//                        outcome (`duplicate: true`) on redelivery; a problem otherwise
//   batch                200 + a report with one result per element, in order:
//                        `{ index, ok: true, status, id, source, result }` or
//                        `{ index, ok: false, status, id?, source?, problem }`
import type { FastifyInstance } from 'fastify';
import { ingestCloudEvents } from '../../application/index.js';
import { actorOf } from '../auth.js';
import type { RouteDeps } from '../deps.js';
import { batchReport, statusOf } from '../ingestReply.js';
import { batchSchema, outcomeSchema } from '../ingestSchemas.js';
import {
  distinctHeaders,
  ingestErrorHandler,
  ingestLimitsOf,
  rawBody,
  rawBodyParser,
} from '../rawBody.js';

/** Registers `POST /v1/events` in its own encapsulated scope. */
export async function eventRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const limits = ingestLimitsOf(deps);
  const ingest = ingestCloudEvents({
    store: deps.store,
    receipts: deps.domain,
    limits,
    ...(deps.signaturePolicy === undefined ? {} : { signaturePolicy: deps.signaturePolicy }),
    onUnexpectedError: (error) =>
      app.log.error({ err: error }, 'unexpected error while ingesting a batch item'),
  });
  await app.register((scope, _options, done) => {
    rawBodyParser(scope, limits.maxBodyBytes);
    scope.setErrorHandler(ingestErrorHandler('INGEST_BODY_TOO_LARGE'));
    scope.post(
      '/v1/events',
      {
        config: { permission: 'ingest' },
        schema: {
          tags: ['ingest'],
          summary: 'Ingest CloudEvents (structured, binary or batch mode)',
          description:
            'Structured: `Content-Type: application/cloudevents+json`. Batch: `application/cloudevents-batch+json` ' +
            '(a JSON array). Binary: `ce-*` headers with the data as the body, of any content type. ' +
            'Receipts (`dev.provenant.receipt.v1`) and mapped CDEvents become receipts; any other event is stored ' +
            'as `PipelineEventRecorded.v1`; a mapped CDEvent that names no unit but has a `chainId` waits for its ' +
            'chain (202, docs/chains.md). One event: 201 when appended, 200 with the original result on ' +
            'redelivery of the same `source` + `id`, 409 when that pair was stored with other content. ' +
            'Batch: 200 with one result per element; invalid elements are rejected, the rest appended. ' +
            'See docs/ingest.md.',
          response: {
            201: { ...outcomeSchema, description: 'The event was appended' },
            202: {
              ...outcomeSchema,
              description:
                'A CDEvent that names no unit, stored in its chain (`kind: chain-pending`, `unit: null`, `chainId`): ' +
                'its receipt is recorded when the chain names a unit (docs/chains.md)',
            },
            200: {
              description:
                'A redelivery (the original result, `duplicate: true`), or the report of a batch',
              anyOf: [outcomeSchema, batchSchema],
            },
          },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const result = await ingest({
          headers: distinctHeaders(request),
          body: rawBody(request),
          ...(actor === undefined ? {} : { actor }),
        });
        if (result.mode === 'batch') return reply.code(200).send(batchReport(result.items));
        return reply.code(statusOf(result.outcome)).send(result.outcome);
      },
    );
    done();
  });
}
