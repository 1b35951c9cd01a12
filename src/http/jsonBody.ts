// The guarded JSON body parser every route uses: nesting depth checked before
// parsing, strict UTF-8, `__proto__`/`constructor`/`prototype` keys and inline
// binary refused, each with its own code (the same path as ingest).
import type { FastifyInstance } from 'fastify';
import { DEFAULT_INGEST_LIMITS } from '../ingest/index.js';
import { parseJsonSafely } from '../ingest/jsonGuard.js';

/**
 * Replaces `scope`'s `application/json` parser with the guarded one. A scope
 * whose bodies legitimately carry long base64 (Sigstore bundles) raises
 * `maxInlineBinaryChars`; every other guard stays.
 */
export function useGuardedJson(
  scope: FastifyInstance,
  { maxInlineBinaryChars = DEFAULT_INGEST_LIMITS.maxInlineBinaryChars } = {},
): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(
        null,
        parseJsonSafely(body as Buffer, {
          maxDepth: DEFAULT_INGEST_LIMITS.maxDepth,
          maxInlineBinaryChars,
        }),
      );
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
