// What the ingest routes share: raw-body parsing (ingest parses and limits bodies
// itself), the request's headers with repeats kept apart, the HTTP edge's ingest
// limits, and the error handler that gives fastify's own body rejections the
// ingest codes docs/ingest.md promises.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProvenantError, type ErrorCode } from '../errors.js';
import { resolveIngestLimits, type HttpHeaders, type IngestLimits } from '../ingest/index.js';
import type { RouteDeps } from './deps.js';
import { handleError, sendProblem } from './problem.js';

/**
 * The request's headers, a field sent more than once as the list of its values.
 * Node's `headers` joins the repeats of a field it does not know with ', ' (two
 * `ce-id` lines would read as one id 'a, b') and keeps only the first of some
 * others (`content-type`); ingest refuses a CloudEvent attribute or a
 * Content-Type sent twice instead (one header per attribute: the binary binding).
 * light-my-request's `inject` has no `headersDistinct`: there, `headers` as given.
 */
export function distinctHeaders(request: FastifyRequest): HttpHeaders {
  const distinct = request.raw.headersDistinct as Record<string, string[]> | undefined;
  if (distinct === undefined) return request.headers;
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(distinct))
    headers[name] = values.length === 1 ? (values[0] ?? '') : values;
  return headers;
}

/** The ingest limits of the HTTP edge: the configured body and event sizes and clock skew, the rest by default. */
export const ingestLimitsOf = (deps: Pick<RouteDeps, 'limits'>): IngestLimits =>
  resolveIngestLimits({
    maxBodyBytes: deps.limits.bodyBytes,
    maxEventBytes: deps.limits.eventBytes,
    ...(deps.limits.clockSkewMs === undefined ? {} : { maxFutureSkewMs: deps.limits.clockSkewMs }),
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
