// NVRPP unit keys (DESIGN.md §1), the short form of RPM-style package URLs
// (src/domain/purl.ts, src/domain/unitKey.ts): a software unit is named by NVRPP —
// `name/version/release/platform/packageType`, e.g. `openssl/3.2.1/2.el9/x86_64/rpm`.
// The key is part of a stream name (`unit-<key>`) and of URLs, so every part is
// limited to a safe character set and a bounded length.
import { ProvenantError } from '../errors.js';

/** A parsed, validated unit key. */
export interface UnitKey {
  readonly name: string;
  readonly version: string;
  readonly release: string;
  readonly platform: string;
  readonly packageType: string;
}

/** The parts of a unit key, in key order. */
export const UNIT_KEY_PARTS = ['name', 'version', 'release', 'platform', 'packageType'] as const;

/** Longest part, in characters. */
export const MAX_UNIT_KEY_PART_LENGTH = 100;
/** Longest key, in characters: `unit-` plus the key fits the store's 256-character stream names. */
export const MAX_UNIT_KEY_LENGTH = 250;

// Letters, digits and the punctuation of real version strings (RPM `~`/`^`, semver
// `+`, Debian epochs `:`). A part must start with a letter or digit, which also
// rules out `.` and `..`.
const PART_RE = /^[A-Za-z0-9][A-Za-z0-9._+~^:-]*$/;
// Package types are lower-case, as purl types are.
const PACKAGE_TYPE_RE = /^[a-z][a-z0-9.+-]*$/;

/** The stream prefix of unit streams. */
export const UNIT_STREAM_PREFIX = 'unit-';

const invalid = (key: string, reason: string): ProvenantError =>
  new ProvenantError('DOMAIN_INVALID_UNIT_KEY', `Invalid unit key '${printable(key)}': ${reason}`, {
    details: { key: printable(key), reason },
  });

// Keep error messages printable and short whatever the caller sent.
const printable = (value: string): string =>
  // eslint-disable-next-line no-control-regex
  (value.length > 300 ? `${value.slice(0, 300)}…` : value).replace(/[\u0000-\u001f\u007f]/g, '?');

/**
 * Parses and validates `name/version/release/platform/packageType`. Throws
 * `DOMAIN_INVALID_UNIT_KEY` with a message that names the offending part.
 */
export function parseUnitKey(key: unknown): UnitKey {
  if (typeof key !== 'string') throw invalid(String(key), 'a unit key must be a string');
  if (key.length === 0) throw invalid(key, 'a unit key must not be empty');
  if (key.length > MAX_UNIT_KEY_LENGTH)
    throw invalid(key, `it is ${key.length} characters long; the limit is ${MAX_UNIT_KEY_LENGTH}`);
  const parts = key.split('/');
  if (parts.length !== UNIT_KEY_PARTS.length)
    throw invalid(
      key,
      `expected 5 parts name/version/release/platform/packageType separated by '/', got ${parts.length} (or a package URL: pkg:type/namespace/name@version)`,
    );
  const values: Record<string, string> = {};
  UNIT_KEY_PARTS.forEach((label, index) => {
    const part = parts[index] ?? '';
    if (part.length === 0) throw invalid(key, `${label} must not be empty`);
    if (part.length > MAX_UNIT_KEY_PART_LENGTH)
      throw invalid(
        key,
        `${label} is ${part.length} characters long; the limit is ${MAX_UNIT_KEY_PART_LENGTH}`,
      );
    const re = label === 'packageType' ? PACKAGE_TYPE_RE : PART_RE;
    if (!re.test(part))
      throw invalid(
        key,
        label === 'packageType'
          ? `packageType '${printable(part)}' must be lower-case letters, digits, '.', '+' or '-', starting with a letter`
          : `${label} '${printable(part)}' must start with a letter or digit and contain only letters, digits and . _ + ~ ^ : -`,
      );
    values[label] = part;
  });
  return values as unknown as UnitKey;
}

/** The canonical text of a unit key. */
export const formatUnitKey = (key: UnitKey): string =>
  UNIT_KEY_PARTS.map((label) => key[label]).join('/');

/** Validates an NVRPP `key` and returns it in canonical form (unchanged when valid). */
export const normalizeUnitKey = (key: unknown): string => formatUnitKey(parseUnitKey(key));

/**
 * The stream of an NVRPP unit's receipts and verdicts: `unit-<key>`. Validates the
 * key. Units named only by a purl have hashed stream names (application/unitStreams.ts).
 */
export const unitStreamName = (key: string | UnitKey): string =>
  UNIT_STREAM_PREFIX + (typeof key === 'string' ? normalizeUnitKey(key) : formatUnitKey(key));
