// POST /v1/events: CloudEvents over HTTP in structured, binary and batch mode
// (DESIGN.md §4; https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md).
//
// The route takes the RAW body: its own content-type parser (encapsulated in this
// plugin, so other routes keep fastify's JSON parser) hands every body over as a
// Buffer, and `src/ingest` does the limits, safe JSON parsing, strict validation
// and classification. The work is in the framework-free ingest service.
//
//   structured / binary  201 + the outcome when appended; 200 + the ORIGINAL
//                        outcome (`duplicate: true`) on redelivery; a problem otherwise
//   batch                200 + a report with one result per element, in order:
//                        `{ index, ok: true, status, id, source, result }` or
//                        `{ index, ok: false, status, id?, source?, problem }`
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProvenantError, type ErrorCode } from '../../errors.js';
import { resolveIngestLimits, type IngestLimits } from '../../ingest/index.js';
import type { RouteDeps } from '../app.js';
import { createIngestService } from '../ingestService.js';
import { handleError, sendProblem } from '../problem.js';
import { positionSchema, verdictChangeSchema } from '../schemas.js';

/** The ingest limits of the HTTP edge: the configured body and event sizes, the rest by default. */
export const ingestLimitsOf = (deps: Pick<RouteDeps, 'limits'>): IngestLimits =>
  resolveIngestLimits({
    maxBodyBytes: deps.limits.bodyBytes,
    maxEventBytes: deps.limits.eventBytes,
  });

/**
 * An error handler for ingest routes: fastify's own body-size and media-type
 * rejections get the ingest codes that docs/ingest.md promises; everything else
 * goes to the shared problem+json handler.
 */
export function ingestErrorHandler(tooLarge: ErrorCode) {
  return function (
    this: FastifyInstance,
    error: FastifyError,
    request: FastifyRequest,
    reply: FastifyReply,
  ): FastifyReply {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendProblem(reply, new ProvenantError(tooLarge, error.message), request);
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendProblem(
        reply,
        new ProvenantError(
          'INGEST_UNSUPPORTED_MEDIA_TYPE',
          'Content-Type is not a well-formed media type',
        ),
        request,
      );
    return handleError.call(this, error, request, reply);
  };
}

/** Every body, whatever its content type, as raw bytes (bounded by `bodyLimit`). */
export function rawBodyParser(scope: FastifyInstance, bodyLimit: number): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
    done(null, body);
  });
}

/** The raw body a route received (empty when the request had none). */
export const rawBody = (request: FastifyRequest): Uint8Array =>
  request.body instanceof Uint8Array ? request.body : new Uint8Array(0);

/** JSON Schema of one ingest outcome (`IngestOutcome`), shared with the JUnit route. */
export const outcomeSchema = {
  type: 'object',
  required: ['kind', 'eventId', 'stream', 'revision', 'position', 'duplicate'],
  additionalProperties: true,
  properties: {
    kind: { type: 'string', enum: ['receipt', 'pipeline-event'] },
    eventId: { type: 'string', description: 'Store id (ULID) of the stored event' },
    receiptId: { type: 'string', description: 'Receipts only' },
    unit: { type: 'string', description: 'Receipts only: the normalised unit key' },
    stream: { type: 'string' },
    revision: { type: 'integer', minimum: 0 },
    position: positionSchema,
    duplicate: {
      type: 'boolean',
      description: 'True on redelivery: nothing was appended, this is the original result',
    },
    verdicts: { type: 'array', items: verdictChangeSchema, description: 'Receipts only' },
  },
} as const;

const batchSchema = {
  type: 'object',
  required: ['mode', 'total', 'accepted', 'duplicates', 'rejected', 'results'],
  additionalProperties: true,
  properties: {
    mode: { type: 'string', enum: ['batch'] },
    total: { type: 'integer' },
    accepted: { type: 'integer', description: 'Appended by this request' },
    duplicates: { type: 'integer', description: 'Already stored: nothing appended' },
    rejected: { type: 'integer', description: 'Invalid or conflicting: nothing appended' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'ok', 'status'],
        additionalProperties: true,
        properties: {
          index: { type: 'integer', minimum: 0 },
          ok: { type: 'boolean' },
          status: { type: 'integer', description: 'The status this event alone would get' },
          id: { type: 'string' },
          source: { type: 'string' },
          result: outcomeSchema,
          problem: {
            type: 'object',
            additionalProperties: true,
            description: 'RFC 9457 problem details of a rejected event',
          },
        },
      },
    },
  },
} as const;

/** Registers `POST /v1/events` in its own encapsulated scope. */
export async function eventRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const limits = ingestLimitsOf(deps);
  const ingest = createIngestService({ store: deps.store, domain: deps.domain, limits }, (error) =>
    app.log.error({ err: error }, 'unexpected error while ingesting a batch item'),
  );
  await app.register((scope, _options, done) => {
    rawBodyParser(scope, limits.maxBodyBytes);
    scope.setErrorHandler(ingestErrorHandler('INGEST_BODY_TOO_LARGE'));
    scope.post(
      '/v1/events',
      {
        schema: {
          tags: ['ingest'],
          summary: 'Ingest CloudEvents (structured, binary or batch mode)',
          description:
            'Structured: `Content-Type: application/cloudevents+json`. Batch: `application/cloudevents-batch+json` ' +
            '(a JSON array). Binary: `ce-*` headers with the data as the body, of any content type. ' +
            'Receipts (`dev.provenant.receipt.v1`) and mapped CDEvents become receipts; any other event is stored ' +
            'as `PipelineEventRecorded.v1`. One event: 201 when appended, 200 with the original result on ' +
            'redelivery of the same `source` + `id`, 409 when that pair was stored with other content. ' +
            'Batch: 200 with one result per element; invalid elements are rejected, the rest appended. ' +
            'See docs/ingest.md.',
          response: {
            201: { ...outcomeSchema, description: 'The event was appended' },
            200: {
              description:
                'A redelivery (the original result, `duplicate: true`), or the report of a batch',
              anyOf: [outcomeSchema, batchSchema],
            },
          },
        },
      },
      async (request, reply) => {
        const { status, body } = await ingest.ingestCloudEvents({
          headers: request.headers,
          body: rawBody(request),
        });
        return reply.code(status).send(body);
      },
    );
    done();
  });
}
