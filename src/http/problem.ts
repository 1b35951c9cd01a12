// RFC 9457 problem details: every error leaves the server in this one shape, with
// a stable code from the registry (src/errors.ts).
import type {
  FastifyError,
  FastifyReply,
  FastifyRequest,
  FastifySchemaValidationError,
} from 'fastify';
import { ProvenantError, errorCodes, isProvenantError, type ErrorCode } from '../errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Seconds a client is told to wait (Retry-After) after a 503. */
export const RETRY_AFTER_UNAVAILABLE_SECONDS = 2;

/** The body of an RFC 9457 problem response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  [extension: string]: unknown;
}

/** Problem `type` URIs name the code; the README's error table documents each. */
export const problemType = (code: ErrorCode): string =>
  `urn:provenant:problem:${code.toLowerCase().replaceAll('_', '-')}`;

export function toProblem(error: ProvenantError, instance?: string): Problem {
  const { status, title } = errorCodes[error.code];
  return {
    type: problemType(error.code),
    title,
    status,
    detail: error.message,
    code: error.code,
    ...(instance !== undefined ? { instance } : {}),
    ...(error.details !== undefined ? { details: error.details } : {}),
  };
}

/**
 * Schema failures as a reader wants them: where, and what is wrong, naming the
 * property that is not allowed (`body must NOT have additional properties:
 * 'stage'`) and the values that are (`querystring/status must be one of passed,
 * failed, pending`); the same facts stay in `details.errors[].params`.
 */
export function validationMessage(
  errors: readonly FastifySchemaValidationError[],
  dataVar: string,
): string {
  return errors
    .map((e) => {
      const { additionalProperty, allowedValues } = e.params;
      const message =
        typeof additionalProperty === 'string'
          ? `${e.message ?? 'has a property not allowed'}: '${additionalProperty}'`
          : Array.isArray(allowedValues)
            ? `must be one of ${allowedValues.map(String).join(', ')}`
            : (e.message ?? 'is invalid');
      return `${dataVar}${e.instancePath} ${message}`;
    })
    .join('; ');
}

/** Maps fastify's own errors (parsing, limits, schema validation) into the registry. */
export function fromFastifyError(error: FastifyError): ProvenantError | undefined {
  if (error.validation !== undefined)
    return new ProvenantError(
      'HTTP_VALIDATION',
      validationMessage(error.validation, error.validationContext ?? 'request'),
      {
        details: {
          errors: error.validation.map((v) => ({
            path: v.instancePath,
            message: v.message,
            params: v.params,
          })),
        },
      },
    );
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProvenantError('HTTP_PAYLOAD_TOO_LARGE', error.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ProvenantError(
        error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'HTTP_UNSUPPORTED_MEDIA_TYPE'
          : 'HTTP_BAD_REQUEST',
        error.message,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new ProvenantError('HTTP_BAD_REQUEST', error.message);
    default:
      break;
  }
  if (error instanceof SyntaxError && error.statusCode === 400)
    return new ProvenantError('HTTP_BAD_REQUEST', error.message);
  if (error.statusCode === 413) return new ProvenantError('HTTP_PAYLOAD_TOO_LARGE', error.message);
  if (error.statusCode === 415)
    return new ProvenantError('HTTP_UNSUPPORTED_MEDIA_TYPE', error.message);
  return undefined;
}

export function sendProblem(
  reply: FastifyReply,
  error: ProvenantError,
  request?: FastifyRequest,
): FastifyReply {
  const problem = toProblem(error, request?.url);
  // A 503 is temporary (a backend away, a position not reached yet): say when to retry.
  if (problem.status === 503 && !reply.hasHeader('retry-after'))
    void reply.header('retry-after', String(RETRY_AFTER_UNAVAILABLE_SECONDS));
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** The error handler every route shares. Unexpected errors are logged and never leak internals. */
export function handleError(
  this: unknown,
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const known = isProvenantError(error) ? error : fromFastifyError(error);
  if (known !== undefined) {
    if (known.status >= 500) request.log.error({ err: error }, known.message);
    return sendProblem(reply, known, request);
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(
    reply,
    new ProvenantError('INTERNAL', 'An internal error occurred; see the server log'),
    request,
  );
}
