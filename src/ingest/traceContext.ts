// W3C Trace Context: the `traceparent` header a request carries, kept in the
// stored events' metadata when it is well formed (https://www.w3.org/TR/trace-context/#traceparent-header).
import type { HttpHeaders } from './cloudEvents.js';

// §3.2: version-traceid-parentid-flags, lower-case hex.
const TRACEPARENT_RE = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The `traceparent` header when it is well formed, else undefined. */
export function traceparentOf(headers: HttpHeaders): string | undefined {
  const value = headers['traceparent'];
  return typeof value === 'string' && TRACEPARENT_RE.test(value) ? value : undefined;
}
