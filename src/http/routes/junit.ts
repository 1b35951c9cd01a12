// POST /v1/units/{key}/actions/{action}/junit: a JUnit/xUnit XML report becomes a
// receipt for that unit and action (issue 4 "Ingest"; docs/ingest.md "JUnit"):
// counts, the names of the failing tests, `multipass` only when nothing failed or
// errored. The unit key contains `/`, so it travels URL-encoded as ONE path segment:
// `/v1/units/openssl%2F3.2.1%2F2.el9%2Fx86_64%2Frpm/actions/unit-test/junit`.
//
// Idempotent: the same report (same bytes) for the same unit and action is a
// duplicate (200 with the original result); see `junitIdempotencyKey`.
import type { FastifyInstance } from 'fastify';
import { JUNIT_MEDIA_TYPES, ingestJUnit } from '../../application/index.js';
import { traceparentOf } from '../../ingest/index.js';
import { actorOf } from '../auth.js';
import type { RouteDeps } from '../deps.js';
import { statusOf } from '../ingestReply.js';
import { outcomeSchema } from '../ingestSchemas.js';
import { ingestErrorHandler, ingestLimitsOf, rawBody, rawBodyParser } from '../rawBody.js';

interface JUnitParams {
  key: string;
  action: string;
}

interface JUnitQuery {
  producer?: string;
  correlation_id?: string;
}

/** Registers the JUnit ingest route in its own encapsulated scope. */
export async function junitRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const limits = ingestLimitsOf(deps);
  const ingest = ingestJUnit({ receipts: deps.domain, limits });
  await app.register((scope, _options, done) => {
    // Reports are bounded by their own limit (5 MiB by default), not the event body limit.
    rawBodyParser(scope, limits.maxJUnitBytes);
    scope.setErrorHandler(ingestErrorHandler('INGEST_JUNIT_TOO_LARGE'));
    scope.post<{ Params: JUnitParams; Querystring: JUnitQuery }>(
      '/v1/units/:key/actions/:action/junit',
      {
        config: { permission: 'ingest' },
        schema: {
          tags: ['ingest'],
          summary: 'Record a JUnit/xUnit XML report as a receipt',
          description:
            `Body: the report, as ${JUNIT_MEDIA_TYPES.join(', ')} (UTF-8). The unit key goes URL-encoded ` +
            'in one path segment (`openssl%2F3.2.1%2F2.el9%2Fx86_64%2Frpm`). `multipass` is true only when ' +
            'no test failed or errored. Re-posting the same report for the same unit and action returns the ' +
            'original result with 200. DTDs and entities are refused.',
          params: {
            type: 'object',
            required: ['key', 'action'],
            properties: {
              key: { type: 'string', description: 'Unit key (NVRPP), URL-encoded' },
              action: { type: 'string', description: 'Action name, e.g. unit-test' },
            },
          },
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              producer: {
                type: 'string',
                minLength: 1,
                maxLength: 512,
                description: 'Who produced the report (pipeline, tool)',
              },
              correlation_id: { type: 'string', minLength: 1, maxLength: 256 },
            },
          },
          response: {
            201: { ...outcomeSchema, description: 'The receipt was recorded' },
            200: { ...outcomeSchema, description: 'The same report again: the original result' },
          },
        },
      },
      async (request, reply) => {
        const { producer, correlation_id: correlationId } = request.query;
        const traceparent = traceparentOf(request.headers);
        const actor = actorOf(request);
        const outcome = await ingest({
          unit: request.params.key,
          action: request.params.action,
          contentType: request.headers['content-type'],
          body: rawBody(request),
          ...(producer === undefined ? {} : { producer }),
          ...(correlationId === undefined ? {} : { correlationId }),
          ...(traceparent === undefined ? {} : { traceparent }),
          ...(actor === undefined ? {} : { actor }),
        });
        return reply.code(statusOf(outcome)).send(outcome);
      },
    );
    done();
  });
}
