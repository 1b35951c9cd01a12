// Safe JSON intake (issue 4 "Limits and sanitisation"). Untrusted JSON is checked
// in three steps, cheapest first:
//   1. `scanJson`: one linear pass over the bytes that tracks nesting outside
//      strings, so depth is bounded BEFORE `JSON.parse` spends CPU and stack on it;
//      for a top-level array it also records each element's byte span, so per-event
//      sizes of a batch are known without parsing. The same pass notes the longest
//      string literal and any key that is escaped or spells a forbidden key.
//   2. strict UTF-8 decoding and `JSON.parse`, with its own error code.
//   3. `sanitizeJson`: a walk that rejects prototype-pollution keys (`__proto__`,
//      `constructor`, `prototype`) and strings that look like inline binary (long
//      base64 runs: evidence goes by reference, DESIGN.md §4). It runs only when
//      the scan could not rule both out: no suspicious key literal and no string
//      literal longer than the base64 limit prove the walk would find nothing.
import { ProvenantError } from '../errors.js';
import type { JsonValue } from '../eventStore/types.js';
import { assertIJson } from './iJson.js';
import { assertNoSecrets } from './secrets.js';

/** Keys that are never accepted in ingested JSON (prototype pollution). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/**
 * Facts about a run of JSON bytes that the scan learns for free, and that let
 * the post-parse walk be skipped when they prove it would find nothing.
 */
export interface JsonFacts {
  /**
   * Bytes between the quotes of the longest string literal (key or value). A
   * string's length in UTF-16 code units is at most its literal's byte length
   * (every code unit takes at least one byte, escapes more), so when this is at
   * most `maxInlineBinaryChars` no string can hold a base64 run over the limit.
   */
  readonly longestString: number;
  /**
   * True when some object key is written with a backslash escape, or spells a
   * forbidden key (`__proto__`, `constructor`, `prototype`) literally. When
   * false, no key of the parsed value can be forbidden.
   */
  readonly suspiciousKey: boolean;
  /** Object members written (`:` outside strings): more than the parsed value has means a duplicate name. */
  readonly keys: number;
  /** Some string holds a `\u` escape: the only way to write a lone surrogate or disguise a secret. */
  readonly unicodeEscape: boolean;
}

/** Byte offsets `[start, end)` of one element of a top-level JSON array, and its facts. */
export interface JsonSpan extends JsonFacts {
  readonly start: number;
  readonly end: number;
}

/** What the pre-parse scan learned, over the whole body. */
export interface JsonScan extends JsonFacts {
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

// What each byte means to the scan outside strings, looked up in one step.
// 0: anything else (part of a number or of true, false, null; or invalid)
const SPACE = 1;
const STRING = 2;
const OPEN = 3;
const CLOSE = 4;
const COMMA = 5;
const COLON = 6;
const BYTE_CLASS = new Uint8Array(256);
for (const b of [0x20, 0x0a, 0x0d, 0x09]) BYTE_CLASS[b] = SPACE;
BYTE_CLASS[QUOTE] = STRING;
BYTE_CLASS[OPEN_BRACE] = OPEN;
BYTE_CLASS[OPEN_BRACKET] = OPEN;
BYTE_CLASS[CLOSE_BRACE] = CLOSE;
BYTE_CLASS[CLOSE_BRACKET] = CLOSE;
BYTE_CLASS[0x2c] = COMMA;
BYTE_CLASS[0x3a] = COLON;

// The forbidden keys as bytes, to compare key literals with while scanning.
const FORBIDDEN_KEY_BYTES: readonly Uint8Array[] = [...FORBIDDEN_KEYS].map((key) =>
  new TextEncoder().encode(key),
);

const SHORTEST_FORBIDDEN = Math.min(...FORBIDDEN_KEY_BYTES.map((key) => key.length));
const LONGEST_FORBIDDEN = Math.max(...FORBIDDEN_KEY_BYTES.map((key) => key.length));

/** True when `bytes[start, end)` spells one of the forbidden keys. */
function isForbiddenLiteral(bytes: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if (length < SHORTEST_FORBIDDEN || length > LONGEST_FORBIDDEN) return false;
  next: for (const key of FORBIDDEN_KEY_BYTES) {
    if (key.length !== end - start) continue;
    for (let k = 0; k < key.length; k++) if (bytes[start + k] !== key[k]) continue next;
    return true;
  }
  return false;
}

const span = (start: number, end: number, facts: JsonFacts): JsonSpan => ({ start, end, ...facts });

/**
 * Scans JSON bytes in one pass without parsing them. Throws `INGEST_TOO_DEEP` as
 * soon as nesting passes `maxDepth`, and `INGEST_MALFORMED_JSON` for brackets that
 * do not balance or a string that does not end (the rest of the syntax is left to
 * `JSON.parse`). Along the way it records the facts (`JsonFacts`) that tell
 * whether the parsed value needs `sanitizeJson` at all, for the whole body and for
 * each element of a top-level array. The facts are only meaningful for bytes that
 * `JSON.parse` then accepts.
 */
export function scanJson(bytes: Uint8Array, maxDepth: number): JsonScan {
  const stack = new Uint8Array(maxDepth + 1);
  const length = bytes.length;
  let depth = 0;
  let maxSeen = 0;
  let start = 0;
  while (start < length && BYTE_CLASS[bytes[start] as number] === SPACE) start++;
  const rootIsArray = bytes[start] === OPEN_BRACKET;
  const elements: JsonSpan[] = [];
  let elementStart = -1;
  let lastSignificant = -1;
  // Facts of the current element (or of the whole body when the root is not an array).
  let longest = 0;
  let suspicious = false;
  let keys = 0;
  let unicode = false;
  let anyLongest = 0;
  let anySuspicious = false;
  let allKeys = 0;
  let anyUnicode = false;
  const facts = (): JsonFacts => ({
    longestString: longest,
    suspiciousKey: suspicious,
    keys,
    unicodeEscape: unicode,
  });
  const foldFacts = (): void => {
    if (longest > anyLongest) anyLongest = longest;
    if (suspicious) anySuspicious = true;
    if (unicode) anyUnicode = true;
    allKeys += keys;
    longest = 0;
    suspicious = false;
    keys = 0;
    unicode = false;
  };
  // The last string literal, in case a ':' makes it a key.
  let stringStart = -1;
  let stringEnd = -1;
  let stringEscaped = false;
  for (let i = start; i < length; i++) {
    const b = bytes[i] as number;
    const kind = BYTE_CLASS[b] as number;
    if (kind === SPACE) continue;
    if (rootIsArray && depth === 1 && elementStart < 0 && b !== CLOSE_BRACKET && kind !== COMMA)
      elementStart = i;
    if (kind === STRING) {
      // The string's body, in a tight loop: only a quote or a backslash matters.
      let j = i + 1;
      let escaped = false;
      for (;;) {
        if (j >= length) throw malformed('unterminated string');
        const c = bytes[j] as number;
        if (c === QUOTE) break;
        if (c === BACKSLASH) {
          escaped = true;
          if (bytes[j + 1] === 0x75) unicode = true;
          j += 2;
        } else j++;
      }
      stringStart = i + 1;
      stringEnd = j;
      stringEscaped = escaped;
      if (j - i - 1 > longest) longest = j - i - 1;
      i = j;
    } else if (kind === COLON) {
      keys++;
      // In JSON that parses, the string before a ':' is an object key.
      if (
        stringEnd === lastSignificant &&
        (stringEscaped || isForbiddenLiteral(bytes, stringStart, stringEnd))
      )
        suspicious = true;
    } else if (kind === OPEN) {
      depth++;
      if (depth > maxDepth)
        throw new ProvenantError(
          'INGEST_TOO_DEEP',
          `JSON nesting passes the limit of ${maxDepth} levels at byte ${i}`,
          { details: { maxDepth, offset: i } },
        );
      stack[depth] = b;
      if (depth > maxSeen) maxSeen = depth;
    } else if (kind === CLOSE) {
      const open = b === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET;
      if (depth === 0 || stack[depth] !== open)
        throw malformed(`unbalanced '${String.fromCharCode(b)}' at byte ${i}`);
      if (rootIsArray && depth === 1 && b === CLOSE_BRACKET && elementStart >= 0) {
        elements.push(span(elementStart, lastSignificant + 1, facts()));
        elementStart = -1;
      }
      depth--;
    } else if (kind === COMMA && rootIsArray && depth === 1) {
      if (elementStart < 0) throw malformed(`empty array element at byte ${i}`);
      elements.push(span(elementStart, lastSignificant + 1, facts()));
      elementStart = -1;
      foldFacts();
    }
    lastSignificant = i;
  }
  if (depth !== 0) throw malformed('unclosed object or array');
  foldFacts();
  const whole: JsonFacts = {
    longestString: anyLongest,
    suspiciousKey: anySuspicious,
    keys: allKeys,
    unicodeEscape: anyUnicode,
  };
  return rootIsArray ? { depth: maxSeen, elements, ...whole } : { depth: maxSeen, ...whole };
}

/**
 * True when a value parsed from bytes with these facts could fail `sanitizeJson`:
 * a key that may be forbidden, or a string long enough to hold an inline-binary run.
 */
export const needsSanitizing = (facts: JsonFacts, options: SanitizeOptions): boolean =>
  facts.suspiciousKey || facts.longestString > options.maxInlineBinaryChars;

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

// Standard and URL-safe base64 alphabets plus padding, by char code (ASCII only).
const BASE64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-')
  BASE64_ALPHABET[c.charCodeAt(0)] = 1;

/**
 * True when `text` holds a run of more than `max` base64-alphabet characters. One
 * linear pass: a regular expression like `[A-Za-z0-9+/=_-]{max+1,}` would restart
 * at every position of a run that falls short, which is quadratic on long strings.
 */
export function hasBase64Run(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && BASE64_ALPHABET[c] === 1) {
      if (++run > max) return true;
    } else run = 0;
  }
  return false;
}

const inlineBinary = (path: string, max: number): ProvenantError =>
  new ProvenantError(
    'INGEST_INLINE_BINARY',
    `String at ${path === '' ? '(root)' : path} looks like inline binary (a base64 run over ${max} characters); send large evidence by reference (uri + digest)`,
    { details: { path, maxInlineBinaryChars: max } },
  );

/** Throws `INGEST_INLINE_BINARY` when `text` holds a base64-looking run longer than allowed. */
export function assertNoInlineBinary(text: string, max: number, path: string): void {
  if (hasBase64Run(text, max)) throw inlineBinary(path, max);
}

const escapePointer = (key: string | number): string =>
  String(key).replaceAll('~', '~0').replaceAll('/', '~1');

/** Where the walk found a problem: the path from the root, and what it was. */
interface Unsafe {
  readonly kind: 'forbidden-key' | 'inline-binary';
  /** Keys and indexes from the root to the offending key or string, innermost last. */
  readonly path: Array<string | number>;
  readonly key?: string;
}

// One pass over a parsed value, in `Object.keys` order: per key, the forbidden-key
// check, then the key's own base64 check, then its value. Allocates nothing until
// it finds a problem; the path is built on the way back up.
function findUnsafe(value: unknown, max: number): Unsafe | undefined {
  if (typeof value === 'string')
    return hasBase64Run(value, max) ? { kind: 'inline-binary', path: [] } : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findUnsafe(value[index], max);
      if (found !== undefined) {
        found.path.unshift(index);
        return found;
      }
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (FORBIDDEN_KEYS.has(key)) return { kind: 'forbidden-key', path: [key], key };
    if (hasBase64Run(key, max)) return { kind: 'inline-binary', path: [key] };
    const found = findUnsafe(record[key], max);
    if (found !== undefined) {
      found.path.unshift(key);
      return found;
    }
  }
  return undefined;
}

/**
 * Walks parsed JSON and throws `INGEST_FORBIDDEN_KEY` for a `__proto__`,
 * `constructor` or `prototype` key and `INGEST_INLINE_BINARY` for a string that
 * looks like inline binary. `path` prefixes the JSON Pointer in messages.
 */
export function sanitizeJson(value: unknown, options: SanitizeOptions, path = ''): void {
  const found = findUnsafe(value, options.maxInlineBinaryChars);
  if (found === undefined) return;
  let at = path;
  for (const segment of found.path) at += `/${escapePointer(segment)}`;
  if (found.kind === 'inline-binary') throw inlineBinary(at, options.maxInlineBinaryChars);
  const key = found.key ?? '';
  throw new ProvenantError('INGEST_FORBIDDEN_KEY', `Key '${key}' is not accepted (at ${at})`, {
    details: { key, path: at },
  });
}

export interface SafeJsonOptions extends SanitizeOptions {
  readonly maxDepth: number;
}

/**
 * Scan, decode, parse and sanitise in that order: the one way ingest reads JSON
 * bytes. The sanitising walk runs only when the scan's facts say it could find
 * something (`needsSanitizing`); otherwise the bytes already prove it would not.
 */
export function parseJsonSafely(bytes: Uint8Array, options: SafeJsonOptions): JsonValue {
  const scan = scanJson(bytes, options.maxDepth);
  const text = decodeUtf8(bytes);
  const value = parseJsonText(text);
  if (needsSanitizing(scan, options)) sanitizeJson(value, options);
  assertIJson(value, scan, bytes);
  assertNoSecrets(value, text, scan);
  return value;
}
