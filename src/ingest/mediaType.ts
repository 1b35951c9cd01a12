// Content-Type parsing (RFC 9110 §8.3.1): a media type is `type/subtype` followed
// by `; name=value` parameters. Ingest decides the CloudEvents HTTP mode and the
// data encoding from it, so a malformed value is rejected, not guessed at.

/** A parsed Content-Type: lower-cased essence and parameters. */
export interface MediaType {
  /** `type/subtype`, lower-cased, without parameters. */
  readonly essence: string;
  readonly type: string;
  readonly subtype: string;
  /** Parameter names lower-cased; quoted values unquoted. */
  readonly parameters: Readonly<Record<string, string>>;
}

// RFC 9110 token characters.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

// Content types repeat from request to request (and within one: the header, the
// `media-type` schema format, the receipt's checks), so parses are remembered.
// Bounded: past the limit the cache starts over, and long values are not kept.
const parsed = new Map<string, MediaType | undefined>();
const CACHE_ENTRIES = 256;
const CACHE_MAX_LENGTH = 256;

/**
 * Parses a Content-Type value; returns undefined when it is not a well-formed media
 * type. The result is frozen and may be shared between callers.
 */
export function parseMediaType(value: string): MediaType | undefined {
  const known = parsed.get(value);
  if (known !== undefined || parsed.has(value)) return known;
  const media = parseUncached(value);
  if (value.length <= CACHE_MAX_LENGTH) {
    if (parsed.size >= CACHE_ENTRIES) parsed.clear();
    parsed.set(value, media);
  }
  return media;
}

function parseUncached(value: string): MediaType | undefined {
  const [head = '', ...rest] = splitParameters(value);
  const slash = head.indexOf('/');
  if (slash < 0) return undefined;
  const type = head.slice(0, slash).trim().toLowerCase();
  const subtype = head
    .slice(slash + 1)
    .trim()
    .toLowerCase();
  if (!TOKEN.test(type) || !TOKEN.test(subtype)) return undefined;
  const parameters: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const raw of rest) {
    const param = raw.trim();
    if (param === '') continue;
    const eq = param.indexOf('=');
    if (eq <= 0) return undefined;
    const name = param.slice(0, eq).trim().toLowerCase();
    let val = param.slice(eq + 1).trim();
    if (!TOKEN.test(name)) return undefined;
    if (val.startsWith('"')) {
      if (!val.endsWith('"') || val.length < 2) return undefined;
      val = val.slice(1, -1).replace(/\\(.)/g, '$1');
    } else if (!TOKEN.test(val)) return undefined;
    parameters[name] = val;
  }
  return Object.freeze({
    essence: `${type}/${subtype}`,
    type,
    subtype,
    parameters: Object.freeze(parameters),
  });
}

// Splits on `;` outside quoted strings.
function splitParameters(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === '\\') {
      current += c + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** JSON media types: `application/json`, `text/json` and any `+json` suffix. */
export const isJsonMediaType = (m: MediaType): boolean =>
  m.essence === 'application/json' || m.essence === 'text/json' || m.subtype.endsWith('+json');

/** Media types whose data is text: `text/*`, XML and a few textual application types. */
export const isTextMediaType = (m: MediaType): boolean =>
  m.type === 'text' ||
  m.essence === 'application/xml' ||
  m.subtype.endsWith('+xml') ||
  m.essence === 'application/yaml' ||
  m.essence === 'application/x-yaml';

/** True when the charset parameter is absent or UTF-8 (all we decode). */
export const isUtf8Charset = (m: MediaType): boolean => {
  const charset = m.parameters['charset'];
  return (
    charset === undefined || charset.toLowerCase() === 'utf-8' || charset.toLowerCase() === 'utf8'
  );
};
