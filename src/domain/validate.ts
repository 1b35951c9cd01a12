// Small shared checks for command input. Command bodies come from HTTP or the CLI
// and are untrusted: every field is checked here even when a route schema also did.
import { ProvenantError, type ErrorCode } from '../errors.js';

/** Longest human name of a gate or stage. */
export const MAX_NAME_LENGTH = 200;
/** Longest description or reason. */
export const MAX_TEXT_LENGTH = 4000;
/** Most entries in a list (required actions, stage gates, prerequisites). */
export const MAX_LIST_LENGTH = 100;

/** An optional string of bounded length; undefined stays undefined. */
export function optionalText(
  code: ErrorCode,
  what: string,
  value: unknown,
  max: number,
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim().length === 0)
    throw new ProvenantError(code, `${what} must be a non-empty string when given`);
  if (value.length > max)
    throw new ProvenantError(
      code,
      `${what} is ${value.length} characters long; the limit is ${max}`,
    );
  return value;
}

/** A required non-blank string of bounded length. */
export function requiredText(code: ErrorCode, what: string, value: unknown, max: number): string {
  const text = optionalText(code, what, value, max);
  if (text === undefined) throw new ProvenantError(code, `${what} is required`);
  return text;
}

/** A non-empty list of unique items, each checked by `item`. */
export function uniqueList(
  code: ErrorCode,
  what: string,
  value: unknown,
  item: (entry: unknown) => string,
  { allowEmpty = false }: { allowEmpty?: boolean } = {},
): string[] {
  if (!Array.isArray(value)) throw new ProvenantError(code, `${what} must be an array`);
  if (!allowEmpty && value.length === 0)
    throw new ProvenantError(code, `${what} must not be empty`);
  if (value.length > MAX_LIST_LENGTH)
    throw new ProvenantError(
      code,
      `${what} has ${value.length} entries; the limit is ${MAX_LIST_LENGTH}`,
    );
  const seen = new Set<string>();
  return (value as unknown[]).map((entry) => {
    const checked = item(entry);
    if (seen.has(checked))
      throw new ProvenantError(code, `${what} lists '${checked}' more than once`);
    seen.add(checked);
    return checked;
  });
}

/** A plain JSON object (not an array, not null). */
export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
