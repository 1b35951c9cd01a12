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

/** Serialise `value` to its RFC 8785 canonical JSON text. */
export function canonicalize(value: unknown): string {
  const sorted = sortedView(value, 0);
  // Every object of `sorted` has its members in canonical order, so the native
  // serialiser (same string escaping and number format as RFC 8785 §3.2.2) writes it.
  if (sorted !== NOT_FAST) return JSON.stringify(sorted);
  return canonicalizeCarefully(value);
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

const NOT_FAST: unique symbol = Symbol('not on the fast path');
const MAX_FAST_DEPTH = 512;

/**
 * The hot path (every append): returns `value` itself when every object in it
 * already lists its members in canonical order, otherwise a copy in which they
 * do (unchanged subtrees are shared). Bails out with NOT_FAST on anything the
 * native serialiser would not write as RFC 8785 does: non-finite numbers,
 * undefined in arrays, non-JSON types, class instances, cycles or great depth,
 * member names that V8 orders numerically (integer-like) or treats specially
 * (`__proto__`).
 */
function sortedView(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : NOT_FAST;
    case 'object':
      break;
    default:
      return NOT_FAST;
  }
  if (value === null) return null;
  if (depth > MAX_FAST_DEPTH) return NOT_FAST;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) return NOT_FAST;
      const view = sortedView(item, depth + 1);
      if (view === NOT_FAST) return NOT_FAST;
      if (view !== item) (copy ??= value.slice())[i] = view;
    }
    return copy ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return NOT_FAST;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let inOrder = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const first = key.charCodeAt(0);
    if ((first >= 48 && first <= 57) || key === '__proto__') return NOT_FAST;
    if (i > 0 && (keys[i - 1] as string) > key) inOrder = false;
  }
  // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
  if (!inOrder) keys.sort();
  // Out of order: always a copy. In order: a copy only once a member changes.
  let copy: Record<string, unknown> | undefined = inOrder ? undefined : {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const member = record[key];
    if (member === undefined) continue;
    const view = sortedView(member, depth + 1);
    if (view === NOT_FAST) return NOT_FAST;
    if (copy === undefined && view !== member) {
      copy = {};
      for (let j = 0; j < i; j++) {
        const earlier = keys[j] as string;
        if (record[earlier] !== undefined) copy[earlier] = record[earlier];
      }
    }
    if (copy !== undefined) copy[key] = view;
  }
  return copy ?? value;
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
