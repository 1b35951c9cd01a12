// Errors raised before fastify routes a request (the HTTP parser's: headers too
// large, a malformed request line, a CR inside a header, Content-Length together
// with Transfer-Encoding; and Node's header and request timeouts) leave as
// problem+json with a code too, through fastify's `clientErrorHandler`. The
// connection is then closed: after a parse error the byte stream cannot be trusted.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ProvenantError, type ErrorCode } from '../errors.js';
import { toProblem, PROBLEM_CONTENT_TYPE } from './problem.js';

/** The registry code for an error of Node's HTTP parser or server. */
export function clientErrorCode(code: string | undefined): ErrorCode {
  if (code === 'HPE_HEADER_OVERFLOW') return 'HTTP_HEADERS_TOO_LARGE';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'HTTP_REQUEST_TIMEOUT';
  return 'HTTP_BAD_REQUEST';
}

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  HTTP_HEADERS_TOO_LARGE: 'The request headers exceed the size limit',
  HTTP_REQUEST_TIMEOUT: 'The request was not received in time; the connection is closed',
};

/** fastify's `clientErrorHandler`: a problem+json response, then the connection closes. */
export function clientErrorHandler(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code = clientErrorCode(error.code);
  // The parser's own reason (e.g. `HPE_INVALID_HEADER_TOKEN`) helps; the bytes it saw are not echoed.
  const message =
    MESSAGES[code] ?? `The request is not valid HTTP/1.1 (${error.code ?? 'parse error'})`;
  const problem = toProblem(new ProvenantError(code, message));
  const body = JSON.stringify(problem);
  this.log.debug({ code: error.code }, 'client error before routing');
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy();
}
