// RFC 8785 JSON Canonicalization Scheme (JCS): the byte-exact serialisation that
// every digest and signature in Provenant is computed over. Dependency-free and
// tested against the RFC's own vectors (STYLE.md §8).
//
// - Object members are sorted by their names as UTF-16 code-unit sequences (§3.2.3).
// - Numbers are serialised as ECMAScript `Number.prototype.toString` does (§3.2.2.3),
//   which is what `JSON.stringify` does for finite numbers.
// - Strings use the minimal JSON escaping of ECMAScript `JSON.stringify` (§3.2.2.2).
// - Values JSON cannot represent (undefined, functions, symbols, BigInt, NaN,
//   Infinity, cycles) are errors, not silently dropped.
import { V8_MAJOR } from './engine.js';

/** Raised when a value has no canonical JSON form. */
export class CanonicalJsonError extends Error {
  constructor(
    message: string,
    /** JSON Pointer-like path of the offending value. */
    readonly path: string,
  ) {
    super(`${message} at ${path === '' ? '(root)' : path}`);
    this.name = 'CanonicalJsonError';
  }
}

const compareUtf16 = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The two fast writers, which produce the same text (tests run both on every
 * Node line, against the careful writer):
 *
 * - `rope`: writes the text itself, member by member, as a rope of small strings.
 * - `copy`: copies the value with its members in canonical order and hands the
 *   copy to `JSON.stringify`.
 *
 * Which is faster depends on the engine. V8 12 and later (Node 22, 24) serialise
 * plain objects natively at about twice V8 11's speed (Node 20): canonical JSON
 * of a ~1 KiB event, its content digest and one more full read of it (as the
 * SQLite insert makes) took 9.4/8.9 µs with `rope` and 7.4/7.4 µs with `copy` on
 * Node 22/24, but 8.9 against 9.8 µs on Node 20.
 */
export type FastWriter = 'rope' | 'copy';

/** The fast writer this process uses (see FastWriter). */
export const FAST_WRITER: FastWriter = V8_MAJOR >= 12 ? 'copy' : 'rope';

/** Serialise `value` to its RFC 8785 canonical JSON text. */
export function canonicalize(value: unknown): string {
  return canonicalizeWith(FAST_WRITER, value);
}

/**
 * `canonicalize` with a chosen fast writer. Unusual input goes to the careful
 * writer; the few objects only the `rope` writer can take (ROPE_ONLY) go there
 * from `copy`. For tests and benchmarks.
 */
export function canonicalizeWith(writer: FastWriter, value: unknown): string {
  // Bare values (the null context of most events) are quicker written directly.
  if (writer === 'copy' && typeof value === 'object' && value !== null)
    try {
      return JSON.stringify(inCanonicalOrder(value, 0));
    } catch (error) {
      if (error === NOT_FAST) return canonicalizeCarefully(value);
      if (error !== ROPE_ONLY) throw error; // else the rope writer takes it
    }
  try {
    const text = writeRope(value, 0);
    // Consumers read the text whole (hashing, SQLite binding, signing), and each
    // would flatten the rope again if it read a copy; reading one character
    // flattens it once, in place, up front (~0.9 µs less per ~1 KiB event on V8
    // 11, the engine this writer is chosen for).
    text.charCodeAt(0);
    return text;
  } catch (error) {
    if (error !== NOT_FAST) throw error;
    return canonicalizeCarefully(value);
  }
}

/**
 * The reference implementation: a careful walk that serialises anything JSON can
 * represent and says precisely where anything else is. `canonicalize` falls back
 * to it for unusual input; tests check both agree.
 */
export function canonicalizeCarefully(value: unknown): string {
  const parts: string[] = [];
  write(value, parts, '', new Set());
  return parts.join('');
}

/**
 * Thrown (never escapes this module) when the fast writer meets unusual input.
 * One instance, made once: throwing it captures no stack.
 */
const NOT_FAST = new Error('not on the fast path');
/** Thrown by the `copy` walk for input only the `rope` writer can take (see there). */
const ROPE_ONLY = new Error('not for the copy writer');
const MAX_FAST_DEPTH = 512;
// Strings JSON.stringify would escape: quote, backslash, C0 controls, and any
// surrogate (lone ones are escaped; pairs are left to JSON.stringify to judge).
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

const quote = (text: string): string =>
  NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;

/**
 * Member names already seen to need no escaping. Event data repeats the same few
 * names over and over; a Set lookup costs a third of the regular-expression test
 * (0.18 against 0.54 µs for the 23 names of a ~1 KiB receipt). Bounded, so data
 * with ever-new names cannot grow it without limit: past the bound, names are
 * simply tested each time.
 */
const plainNames = new Set<string>();
const PLAIN_NAMES_MAX = 4096;

function isPlainName(name: string): boolean {
  if (plainNames.has(name)) return true;
  if (NEEDS_ESCAPE.test(name)) return false;
  if (plainNames.size < PLAIN_NAMES_MAX) plainNames.add(name);
  return true;
}

/** Above this many members, the built-in sort beats insertion sort. */
const INSERTION_SORT_MAX = 32;

/**
 * Sorts member names by UTF-16 code units (RFC 8785 §3.2.3): `>` on strings and
 * the default `Array.prototype.sort` both compare code units. Objects in event
 * data have few members, and for those an insertion sort costs a third of the
 * built-in sort's call overhead (about 1 µs less per ~1 KiB event). Names from
 * `Object.keys` are distinct, so stability does not matter.
 */
function sortedKeys(keys: string[]): string[] {
  if (keys.length > INSERTION_SORT_MAX) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/**
 * The `rope` writer (the hot path on Node 20): writes plain JSON data (strings, finite numbers,
 * booleans, null, arrays without holes, plain objects) with members sorted by
 * UTF-16 code units (RFC 8785 §3.2.3), strings escaped as JSON.stringify does
 * (§3.2.2.2) and numbers as Number.prototype.toString (§3.2.2.3, -0 is "0").
 * Throws NOT_FAST on anything else (non-finite numbers, undefined in arrays or
 * as a value, functions, symbols, BigInt, class instances, cycles or great
 * depth); the careful writer then either serialises it or names the problem.
 */
function writeRope(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      if (!Number.isFinite(value)) throw NOT_FAST;
      return `${value}`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw NOT_FAST;
  }
  if (value === null) return 'null';
  if (depth > MAX_FAST_DEPTH) throw NOT_FAST;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) throw NOT_FAST;
      if (i > 0) out += ',';
      out += writeRope(item, depth + 1);
    }
    return `${out}]`;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw NOT_FAST;
  const record = value as Record<string, unknown>;
  const keys = sortedKeys(Object.keys(record));
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const member = record[key];
    if (member === undefined) continue; // as JSON.stringify: absent members
    if (out.length > 1) out += ',';
    // `"name":` in one piece: one string fewer per member than quote(key) + ':'.
    out += isPlainName(key) ? `"${key}":` : `${JSON.stringify(key)}:`;
    out += writeRope(member, depth + 1);
  }
  return `${out}}`;
}

/**
 * The `copy` writer's walk: the same checks as `writeRope`, returning plain data
 * for `JSON.stringify` with every object's members inserted in canonical order.
 * Everything is copied, so each value is read exactly once (a getter cannot
 * hand `JSON.stringify` something the checks never saw). Anything the rope
 * writer would refuse too throws NOT_FAST, straight to the careful writer. Names
 * that are array indices ("0", "10") throw ROPE_ONLY: objects list
 * them first, in numeric order, whatever the insertion order, and canonical
 * order is "10" < "9". `__proto__` does too, since assigning it sets the
 * prototype.
 */
function inCanonicalOrder(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw NOT_FAST;
      return value;
    case 'object':
      break;
    default:
      throw NOT_FAST;
  }
  if (value === null) return null;
  if (depth > MAX_FAST_DEPTH) throw NOT_FAST;
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) throw NOT_FAST;
      copy[i] = inCanonicalOrder(item, depth + 1);
    }
    return copy;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw NOT_FAST;
  const record = value as Record<string, unknown>;
  const keys = sortedKeys(Object.keys(record));
  const copy: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const first = key.charCodeAt(0);
    if ((first >= 48 && first <= 57) || key === '__proto__') throw ROPE_ONLY; // see above
    const member = record[key];
    if (member !== undefined) copy[key] = inCanonicalOrder(member, depth + 1);
  }
  return copy;
}

function write(value: unknown, out: string[], path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError('Non-finite number', path);
      out.push(Object.is(value, -0) ? '0' : JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`Value of type ${typeof value} is not JSON`, path);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (seen.has(value)) throw new CanonicalJsonError('Cyclic structure', path);
  seen.add(value);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      write(value[i], out, `${path}/${i}`, seen);
    }
    out.push(']');
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        // Dates and similar: use their JSON form, as JSON.stringify does.
        seen.delete(value);
        write((value as { toJSON: () => unknown }).toJSON(), out, path, seen);
        return;
      }
      throw new CanonicalJsonError(
        `Object of class ${value.constructor?.name ?? 'unknown'} is not plain JSON`,
        path,
      );
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort(compareUtf16);
    out.push('{');
    let first = true;
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue; // as JSON.stringify: absent members
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(key), ':');
      write(member, out, `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, seen);
    }
    out.push('}');
  }
  seen.delete(value);
}
