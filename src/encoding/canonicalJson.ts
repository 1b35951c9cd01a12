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
  try {
    return fast(value, 0);
  } catch (error) {
    if (error !== NOT_FAST) throw error;
  }
  // Something unusual: the careful walk either serialises it or says precisely what is wrong.
  const parts: string[] = [];
  write(value, parts, '', new Set());
  return parts.join('');
}

const NOT_FAST = new Error('not on the fast path');
const MAX_FAST_DEPTH = 512;

// The common case on the hot path (every append): plain data, no cycles. Bails
// out to the careful walk on anything else, which reports errors with a path.
function fast(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw NOT_FAST;
      return String(value); // ECMAScript Number::toString, as RFC 8785 §3.2.2.3; -0 gives "0"
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth > MAX_FAST_DEPTH) throw NOT_FAST; // deep or cyclic: let the careful walk decide
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++)
          out += (i === 0 ? '' : ',') + fast(value[i], depth + 1);
        return `${out}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw NOT_FAST;
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const member = record[key];
        if (member === undefined) continue;
        out += (first ? '' : ',') + JSON.stringify(key) + ':' + fast(member, depth + 1);
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw NOT_FAST;
  }
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
