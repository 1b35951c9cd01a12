// Reading one configuration variable: trimmed, empty as unset, and checked
// (a whole number in range, one of a set, a boolean, an http(s) URL, a URI, a
// comma-separated list); a bad value is CONFIG_INVALID naming the variable.
import { ProvenantError } from './errors.js';
import type { ConfigVariable } from './configVariables.js';

export type Env = Partial<Record<string, string>>;

export const invalid = (name: string, message: string): ProvenantError =>
  new ProvenantError('CONFIG_INVALID', `${name}: ${message}`, { details: { variable: name } });

export function integer(
  env: Env,
  name: ConfigVariable,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw invalid(name, `must be a whole number, got '${raw}'`);
  const value = Number(raw.trim());
  if (value < min || value > max)
    throw invalid(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function oneOf<T extends string>(
  env: Env,
  name: ConfigVariable,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim();
  const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (match === undefined)
    throw invalid(name, `must be one of ${allowed.join(', ')}, got '${raw}'`);
  return match;
}

export function boolean(env: Env, name: ConfigVariable, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw invalid(name, `must be true or false, got '${raw}'`);
}

export function typeUri(env: Env, name: ConfigVariable, fallback: string): string {
  const value = optional(env, name) ?? fallback;
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(value))
    throw invalid(name, `must be a URI with a scheme, got '${value}'`);
  return value;
}

export function httpUrl(env: Env, name: ConfigVariable): string | undefined {
  const value = optional(env, name);
  if (value !== undefined && !/^https?:\/\/[^/\s]+/.test(value))
    throw invalid(name, `must be an http(s) URL, got '${value}'`);
  return value;
}

export const list = (env: Env, name: ConfigVariable): string[] =>
  (optional(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

export const optional = (env: Env, name: ConfigVariable): string | undefined => {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
};
