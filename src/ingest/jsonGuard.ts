// Safe JSON intake (issue 4 "Limits and sanitisation"). Untrusted JSON is checked
// in three steps, cheapest first:
//   1. `scanJson`: one linear pass over the bytes that tracks nesting outside
//      strings, so depth is bounded BEFORE `JSON.parse` spends CPU and stack on it;
//      for a top-level array it also records each element's byte span, so per-event
//      sizes of a batch are known without parsing.
//   2. strict UTF-8 decoding and `JSON.parse`, with its own error code.
//   3. `sanitizeJson`: a walk that rejects prototype-pollution keys (`__proto__`,
//      `constructor`, `prototype`) and strings that look like inline binary (long
//      base64 runs: evidence goes by reference, DESIGN.md §4).
import { ProvenantError } from '../errors.js';
import type { JsonValue } from '../eventStore/types.js';

/** Keys that are never accepted in ingested JSON (prototype pollution). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/** Byte offsets `[start, end)` of one element of a top-level JSON array. */
export interface JsonSpan {
  readonly start: number;
  readonly end: number;
}

/** What the pre-parse scan learned. */
export interface JsonScan {
  /** Deepest nesting seen (root object or array = 1). */
  readonly depth: number;
  /** For a top-level array: the span of each element, whitespace trimmed. */
  readonly elements?: readonly JsonSpan[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Scans JSON bytes in one pass without parsing them. Throws `INGEST_TOO_DEEP` as
 * soon as nesting passes `maxDepth`, and `INGEST_MALFORMED_JSON` for brackets that
 * do not balance (the rest of the syntax is left to `JSON.parse`).
 */
export function scanJson(bytes: Uint8Array, maxDepth: number): JsonScan {
  const stack = new Uint8Array(maxDepth + 1);
  let depth = 0;
  let maxSeen = 0;
  let inString = false;
  let rootIsArray = false;
  let first = -1;
  const elements: JsonSpan[] = [];
  let elementStart = -1;
  let lastSignificant = -1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) {
        inString = false;
        lastSignificant = i;
      }
      continue;
    }
    if (isWhitespace(b)) continue;
    if (first < 0) {
      first = i;
      rootIsArray = b === OPEN_BRACKET;
    }
    if (rootIsArray && depth === 1 && elementStart < 0 && b !== CLOSE_BRACKET && b !== COMMA)
      elementStart = i;
    switch (b) {
      case QUOTE:
        inString = true;
        break;
      case OPEN_BRACE:
      case OPEN_BRACKET:
        depth++;
        if (depth > maxDepth)
          throw new ProvenantError(
            'INGEST_TOO_DEEP',
            `JSON nesting passes the limit of ${maxDepth} levels at byte ${i}`,
            { details: { maxDepth, offset: i } },
          );
        stack[depth] = b;
        if (depth > maxSeen) maxSeen = depth;
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET: {
        const open = b === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET;
        if (depth === 0 || stack[depth] !== open)
          throw malformed(`unbalanced '${String.fromCharCode(b)}' at byte ${i}`);
        if (rootIsArray && depth === 1 && b === CLOSE_BRACKET && elementStart >= 0) {
          elements.push({ start: elementStart, end: lastSignificant + 1 });
          elementStart = -1;
        }
        depth--;
        break;
      }
      case COMMA:
        if (rootIsArray && depth === 1) {
          if (elementStart < 0) throw malformed(`empty array element at byte ${i}`);
          elements.push({ start: elementStart, end: lastSignificant + 1 });
          elementStart = -1;
        }
        break;
      default:
        break;
    }
    lastSignificant = i;
  }
  if (inString) throw malformed('unterminated string');
  if (depth !== 0) throw malformed('unclosed object or array');
  return rootIsArray ? { depth: maxSeen, elements } : { depth: maxSeen };
}

const malformed = (reason: string, cause?: unknown): ProvenantError =>
  new ProvenantError('INGEST_MALFORMED_JSON', `Malformed JSON: ${reason}`, {
    cause,
    details: { reason },
  });

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 strictly: invalid byte sequences are `INGEST_BAD_ENCODING`, not U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new ProvenantError('INGEST_BAD_ENCODING', 'Body is not valid UTF-8', { cause: error });
  }
}

/** `JSON.parse` with its failure mapped to `INGEST_MALFORMED_JSON`. No checks beyond syntax. */
export function parseJsonText(text: string): JsonValue {
  if (text.trim() === '') throw malformed('the body is empty');
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw malformed(error instanceof Error ? error.message : String(error), error);
  }
}

export interface SanitizeOptions {
  /** Longest accepted run of base64-looking characters in one string. */
  readonly maxInlineBinaryChars: number;
}

const base64RunPatterns = new Map<number, RegExp>();
const base64Run = (max: number): RegExp => {
  let re = base64RunPatterns.get(max);
  if (re === undefined) {
    // Standard and URL-safe base64 alphabets plus padding.
    re = new RegExp(`[A-Za-z0-9+/=_-]{${max + 1},}`);
    base64RunPatterns.set(max, re);
  }
  return re;
};

/** Throws `INGEST_INLINE_BINARY` when `text` holds a base64-looking run longer than allowed. */
export function assertNoInlineBinary(text: string, max: number, path: string): void {
  if (text.length > max && base64Run(max).test(text))
    throw new ProvenantError(
      'INGEST_INLINE_BINARY',
      `String at ${path === '' ? '(root)' : path} looks like inline binary (a base64 run over ${max} characters); send large evidence by reference (uri + digest)`,
      { details: { path, maxInlineBinaryChars: max } },
    );
}

const pointer = (path: string, key: string | number): string =>
  `${path}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;

/**
 * Walks parsed JSON and throws `INGEST_FORBIDDEN_KEY` for a `__proto__`,
 * `constructor` or `prototype` key and `INGEST_INLINE_BINARY` for a string that
 * looks like inline binary. `path` prefixes the JSON Pointer in messages.
 */
export function sanitizeJson(value: unknown, options: SanitizeOptions, path = ''): void {
  if (typeof value === 'string') {
    assertNoInlineBinary(value, options.maxInlineBinaryChars, path);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => sanitizeJson(item, options, pointer(path, index)));
    return;
  }
  for (const key of Object.keys(value)) {
    const at = pointer(path, key);
    if (FORBIDDEN_KEYS.has(key))
      throw new ProvenantError('INGEST_FORBIDDEN_KEY', `Key '${key}' is not accepted (at ${at})`, {
        details: { key, path: at },
      });
    assertNoInlineBinary(key, options.maxInlineBinaryChars, at);
    sanitizeJson((value as Record<string, unknown>)[key], options, at);
  }
}

export interface SafeJsonOptions extends SanitizeOptions {
  readonly maxDepth: number;
}

/** Scan, decode, parse and sanitise in that order: the one way ingest reads JSON bytes. */
export function parseJsonSafely(bytes: Uint8Array, options: SafeJsonOptions): JsonValue {
  scanJson(bytes, options.maxDepth);
  const value = parseJsonText(decodeUtf8(bytes));
  sanitizeJson(value, options);
  return value;
}
