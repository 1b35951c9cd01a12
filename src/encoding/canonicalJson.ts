// RFC 8785 JSON Canonicalization Scheme (JCS): the byte-exact serialisation that
// every digest and signature in Provenant is computed over. Tested against the
// RFC's own vectors and, on generated values, against the `canonicalize` package.
//
// - Object members are sorted by their names as UTF-16 code-unit sequences (§3.2.3).
// - Numbers are serialised as ECMAScript `Number.prototype.toString` does (§3.2.2.3),
//   which is what `JSON.stringify` does for finite numbers.
// - Strings use the minimal JSON escaping of ECMAScript `JSON.stringify` (§3.2.2.2);
//   a lone surrogate is written as its `\uXXXX` escape, as `JSON.stringify` does.
// - Values JSON cannot represent (undefined, functions, symbols, BigInt, NaN,
//   Infinity, cycles, objects of other classes unless they have `toJSON`, as
//   Dates do) are errors naming where they are, not silently dropped or replaced.

/** Raised when a value has no canonical JSON form. */
export class CanonicalJsonError extends Error {
  constructor(
    message: string,
    /** JSON Pointer (RFC 6901) of the offending value; '' for the root. */
    readonly path: string,
  ) {
    super(`${message} at ${path === '' ? '(root)' : path}`);
    this.name = 'CanonicalJsonError';
  }
}

/** Serialise `value` to its RFC 8785 canonical JSON text. */
export function canonicalize(value: unknown): string {
  try {
    return write(value, []);
  } catch (error) {
    if (error instanceof Unrepresentable)
      throw new CanonicalJsonError(error.reason, error.segments.reverse().join(''));
    throw error;
  }
}

/**
 * Thrown inside the walk for a value JSON cannot represent. Each enclosing array
 * or object adds its own step to `segments` as the throw passes through it, so
 * the path costs nothing unless something is wrong.
 */
class Unrepresentable extends Error {
  readonly segments: string[] = [];
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A JSON Pointer step (RFC 6901): `~` and `/` in a member name are escaped. */
const step = (name: string | number): string =>
  typeof name === 'number' ? `/${name}` : `/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;

/** Adds the step to `name` to an Unrepresentable passing through; other errors pass unchanged. */
function within(error: unknown, name: string | number): unknown {
  if (error instanceof Unrepresentable) error.segments.push(step(name));
  return error;
}

/**
 * The strings `JSON.stringify` escapes: those with a quote, a backslash, a C0
 * control or a surrogate (it escapes lone ones and keeps pairs). Any other
 * string is written as is between quotes, which saves a call per string.
 */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

const quote = (text: string): string =>
  NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;

/**
 * The canonical text of `value`. `ancestors` holds the arrays and objects being
 * written around it, innermost last, to tell a cycle from a value that is
 * merely shared.
 */
function write(value: unknown, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      if (!Number.isFinite(value)) throw new Unrepresentable('Non-finite number');
      return `${value}`; // Number.prototype.toString; -0 is "0"
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      break;
    default:
      throw new Unrepresentable(`Value of type ${typeof value} is not JSON`);
  }

  if (ancestors.includes(value)) throw new Unrepresentable('Cyclic structure');
  let text: string;
  if (Array.isArray(value)) {
    ancestors.push(value);
    text = writeArray(value as unknown[], ancestors);
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      // Dates and similar: their JSON form, as JSON.stringify uses.
      const { toJSON } = value as { toJSON?: unknown };
      if (typeof toJSON === 'function') return write(toJSON.call(value), ancestors);
      throw new Unrepresentable(
        `Object of class ${value.constructor?.name ?? 'unknown'} is not plain JSON`,
      );
    }
    ancestors.push(value);
    text = writeObject(value as Record<string, unknown>, ancestors);
  }
  ancestors.pop();
  return text;
}

/** Items in order; a hole or undefined is an error (JSON.stringify would write null). */
function writeArray(array: unknown[], ancestors: object[]): string {
  let i = 0;
  try {
    let text = '[';
    for (; i < array.length; i++) text += (i === 0 ? '' : ',') + write(array[i], ancestors);
    return `${text}]`;
  } catch (error) {
    throw within(error, i);
  }
}

/**
 * Members sorted by name. Members whose value is undefined are
 * absent, as in JSON.stringify. Each value is read once, so what is checked is
 * what is written, even behind a getter.
 */
function writeObject(record: Record<string, unknown>, ancestors: object[]): string {
  // Sorted as sequences of UTF-16 code units (RFC 8785 §3.2.3): the default sort's order.
  const names = Object.keys(record).sort();
  let name = '';
  try {
    let text = '{';
    for (name of names) {
      const member = record[name];
      if (member === undefined) continue;
      text += `${text.length === 1 ? '' : ','}${quote(name)}:${write(member, ancestors)}`;
    }
    return `${text}}`;
  } catch (error) {
    throw within(error, name);
  }
}
