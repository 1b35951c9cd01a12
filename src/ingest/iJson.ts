// I-JSON (RFC 7493), which the RFC 8785 digests of stored events assume: no
// duplicate member names (`JSON.parse` silently keeps the last, so an event with
// two `id`s would be stored under the second) and no lone surrogates (only
// writable as a `\uD800` escape, since the body is strict UTF-8).
//
// Cheap on the hot path: the pre-parse scan counts the members it saw (`:` outside
// strings) and notes `\u` escapes; the parsed value must hold as many members.
// Strings are only checked for lone surrogates when an escape was seen. Locating
// the duplicate (for the message) runs only once one is known to exist.
import { ProvenantError } from '../errors.js';

/** What `assertIJson` needs from the pre-parse scan. */
export interface IJsonFacts {
  /** Object members in the bytes. */
  readonly keys: number;
  /** Some string holds a `\u` escape. */
  readonly unicodeEscape: boolean;
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const pointer = (path: readonly (string | number)[]): string =>
  path.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

interface Walk {
  keys: number;
  loneSurrogate?: string;
}

function walk(value: unknown, checkStrings: boolean, path: (string | number)[], out: Walk): void {
  if (typeof value === 'string') {
    if (checkStrings && out.loneSurrogate === undefined && LONE_SURROGATE.test(value))
      out.loneSurrogate = pointer(path);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      walk(value[i], checkStrings, path, out);
      path.pop();
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    out.keys++;
    path.push(key);
    if (checkStrings && out.loneSurrogate === undefined && LONE_SURROGATE.test(key))
      out.loneSurrogate = pointer(path);
    walk(record[key], checkStrings, path, out);
    path.pop();
  }
}

/** Members of each object in the bytes, in the order the objects open (error path only). */
function memberCounts(bytes: Uint8Array): number[] {
  const counts: number[] = [];
  const open: number[] = []; // index into counts, or -1 for an array
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x22) {
      for (i++; i < bytes.length && bytes[i] !== 0x22; i++) if (bytes[i] === 0x5c) i++;
    } else if (b === 0x7b) {
      open.push(counts.length);
      counts.push(0);
    } else if (b === 0x5b) open.push(-1);
    else if (b === 0x7d || b === 0x5d) open.pop();
    else if (b === 0x3a) {
      const top = open[open.length - 1];
      if (top !== undefined && top >= 0) counts[top] = (counts[top] ?? 0) + 1;
    }
  }
  return counts;
}

/** The JSON Pointer of the first object (in document order) that lost members to a duplicate. */
function findDuplicate(value: unknown, bytes: Uint8Array): string {
  const counts = memberCounts(bytes);
  let ordinal = 0;
  const visit = (node: unknown, path: (string | number)[]): string | undefined => {
    if (typeof node !== 'object' || node === null) return undefined;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const found = visit(node[i], [...path, i]);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    const keys = Object.keys(node);
    if (keys.length !== counts[ordinal++]) return pointer(path);
    for (const key of keys) {
      const found = visit((node as Record<string, unknown>)[key], [...path, key]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit(value, []) ?? '';
}

/**
 * Throws `INGEST_DUPLICATE_KEY` when the bytes named a member twice in one object
 * and `INGEST_LONE_SURROGATE` for a string or name holding an unpaired surrogate.
 * `bytes` are the JSON the value was parsed from (used only to locate a
 * duplicate); `prefix` is the JSON Pointer of the value in its request.
 */
export function assertIJson(
  value: unknown,
  facts: IJsonFacts,
  bytes: Uint8Array,
  prefix = '',
): void {
  const out: Walk = { keys: 0 };
  walk(value, facts.unicodeEscape, [], out);
  if (out.keys !== facts.keys) {
    const at = `${prefix}${findDuplicate(value, bytes)}`;
    throw new ProvenantError(
      'INGEST_DUPLICATE_KEY',
      `An object names the same member twice (at ${at === '' ? '(root)' : at}); JSON bodies must be I-JSON (RFC 7493)`,
      { details: { path: at } },
    );
  }
  if (out.loneSurrogate !== undefined) {
    const at = `${prefix}${out.loneSurrogate}`;
    throw new ProvenantError(
      'INGEST_LONE_SURROGATE',
      `A string holds an unpaired UTF-16 surrogate (at ${at === '' ? '(root)' : at}); JSON bodies must be I-JSON (RFC 7493)`,
      { details: { path: at } },
    );
  }
}
