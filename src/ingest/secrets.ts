// No secrets in the log (issue 15): the log is append-only, so a private key or
// token sent in a payload would be kept forever. Strings (values and member
// names) that match a private-key block or a well-known token format are refused
// with `INGEST_SECRET_DETECTED`, naming the JSON path and the kind, never the value.
//
// Cheap on the hot path: one pass of one combined expression over the request
// text rules most bodies out. None of the formats holds a character JSON must
// escape, so a secret can only hide from that pass behind a `\u` escape; the walk
// over the parsed strings runs when the pass matched or such an escape was seen.
import { ProvenantError } from '../errors.js';

/** The kinds of secret recognised, each with its pattern (all linear-time). */
export const SECRET_PATTERNS = [
  ['openssh-private-key', /-----BEGIN OPENSSH PRIVATE KEY-----/],
  ['pgp-private-key', /-----BEGIN PGP PRIVATE KEY BLOCK-----/],
  // PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`), PKCS#1 (`RSA`), SEC1 (`EC`), DSA, …
  ['private-key', /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----/],
  ['putty-private-key', /PuTTY-User-Key-File-\d+:/],
  ['github-token', /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/],
  ['github-fine-grained-token', /\bgithub_pat_[A-Za-z0-9_]{22,255}\b/],
  ['aws-access-key-id', /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/],
  ['slack-token', /\bxox[abposr]-[A-Za-z0-9-]{10,255}/],
  ['jwt', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/],
  ['npm-token', /\bnpm_[A-Za-z0-9]{36}\b/],
  ['google-api-key', /\bAIza[0-9A-Za-z_-]{35}\b/],
] as const satisfies readonly (readonly [string, RegExp])[];

export type SecretKind = (typeof SECRET_PATTERNS)[number][0];

const ANY_SECRET = new RegExp(SECRET_PATTERNS.map(([, pattern]) => pattern.source).join('|'));
// For raw JSON text: in it an escape such as `\n` puts a letter before a token
// that the parsed string does not have, so the leading word boundary is dropped.
const ANY_SECRET_IN_JSON = new RegExp(
  SECRET_PATTERNS.map(([, pattern]) => pattern.source.replace(/^\\b/, '')).join('|'),
);

/** The kind of secret `text` holds, if any. */
export function secretKindOf(text: string): SecretKind | undefined {
  if (!ANY_SECRET.test(text)) return undefined;
  for (const [kind, pattern] of SECRET_PATTERNS) if (pattern.test(text)) return kind;
  return undefined;
}

const pointer = (path: readonly (string | number)[]): string =>
  path.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

interface Found {
  readonly kind: SecretKind;
  /** Where: the string, or for a member name the object holding it. */
  readonly path: string;
  readonly inName: boolean;
}

function find(value: unknown, path: (string | number)[]): Found | undefined {
  if (typeof value === 'string') {
    const kind = secretKindOf(value);
    return kind === undefined ? undefined : { kind, path: pointer(path), inName: false };
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const found = find(value[i], path);
      path.pop();
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const kind = secretKindOf(key);
    if (kind !== undefined) return { kind, path: pointer(path), inName: true };
    path.push(key);
    const found = find(child, path);
    path.pop();
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The error for a secret at `path` (a JSON Pointer); the value is never part of it. */
export function secretDetected(kind: SecretKind, path: string, inName = false): ProvenantError {
  const at = path === '' ? '(root)' : path;
  return new ProvenantError(
    'INGEST_SECRET_DETECTED',
    `${inName ? `A member name of the object at ${at}` : `The string at ${at}`} looks like a secret (${kind}); ` +
      'secrets are never stored in the log: reference them instead',
    { details: { path, kind } },
  );
}

/**
 * False when JSON `text` (with or without `\u` escapes) provably holds no secret,
 * so that the walk over its parsed strings can be skipped.
 */
export const mightHoldSecret = (text: string, unicodeEscape: boolean): boolean =>
  unicodeEscape || ANY_SECRET_IN_JSON.test(text);

/**
 * Throws `INGEST_SECRET_DETECTED` when a string or member name of `value` looks
 * like a secret. `text` is the JSON the value was parsed from (or undefined to
 * always walk); `prefix` is the JSON Pointer of the value in its request.
 */
export function assertNoSecrets(
  value: unknown,
  text: string | undefined,
  facts: { readonly unicodeEscape: boolean } = { unicodeEscape: true },
  prefix = '',
): void {
  if (text !== undefined && !mightHoldSecret(text, facts.unicodeEscape)) return;
  const found = find(value, []);
  if (found !== undefined) throw secretDetected(found.kind, `${prefix}${found.path}`, found.inName);
}
