// Package URLs (https://github.com/package-url/purl-spec, PURL-SPECIFICATION.rst):
// `pkg:type/namespace/name@version?qualifiers#subpath`. CDEvents name artifacts by
// purl; ingest derives a unit key and an artifact digest from one. Only the parts
// Provenant needs are parsed; anything malformed yields undefined, not a guess.
import type { DigestSet } from '../domain/receiptInput.js';

/** The components of a purl, percent-decoded. */
export interface PackageUrl {
  readonly type: string;
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
  readonly qualifiers: Readonly<Record<string, string>>;
  readonly subpath?: string;
}

const decode = (part: string): string | undefined => {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
};

/** Parses a purl; returns undefined when it is not one. */
export function parsePurl(text: string): PackageUrl | undefined {
  if (!/^pkg:/i.test(text)) return undefined;
  let rest = text.slice(4).replace(/^\/+/, '');
  let subpath: string | undefined;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    subpath = decode(rest.slice(hash + 1));
    rest = rest.slice(0, hash);
  }
  const qualifiers: Record<string, string> = Object.create(null) as Record<string, string>;
  const question = rest.indexOf('?');
  if (question >= 0) {
    for (const pair of rest.slice(question + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) return undefined;
      const value = decode(pair.slice(eq + 1));
      if (value === undefined) return undefined;
      qualifiers[pair.slice(0, eq).toLowerCase()] = value;
    }
    rest = rest.slice(0, question);
  }
  let version: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    version = decode(rest.slice(at + 1));
    if (version === undefined || version === '') return undefined;
    rest = rest.slice(0, at);
  }
  const segments = rest.split('/').filter((s) => s !== '');
  const [rawType, ...path] = segments;
  const rawName = path.pop();
  if (rawType === undefined || rawName === undefined) return undefined;
  const name = decode(rawName);
  const namespaceParts = path.map(decode);
  if (name === undefined || name === '' || namespaceParts.some((p) => p === undefined))
    return undefined;
  const type = rawType.toLowerCase();
  if (!/^[a-z][a-z0-9.+-]*$/.test(type)) return undefined;
  return {
    type,
    ...(namespaceParts.length > 0 ? { namespace: namespaceParts.join('/') } : {}),
    name,
    ...(version === undefined ? {} : { version }),
    qualifiers,
    ...(subpath === undefined ? {} : { subpath }),
  };
}

// The domain's unit-key part syntax (src/domain/unitKey.ts); the domain re-checks.
const PART = /^[A-Za-z0-9][A-Za-z0-9._+~^:-]{0,99}$/;
const PACKAGE_TYPE = /^[a-z][a-z0-9.+-]{0,99}$/;
// Package types whose version is `upstream-release` (RPM, Debian, Alpine).
const VERSION_RELEASE_TYPES = new Set(['rpm', 'deb', 'apk']);

/**
 * The NVRPP unit key a purl names, or undefined when it lacks a part:
 * `pkg:rpm/fedora/openssl@3.2.1-2.el9?arch=x86_64` → `openssl/3.2.1/2.el9/x86_64/rpm`.
 * Release: the part after the last `-` of an rpm/deb/apk version, else the
 * `release` qualifier. Platform: the `arch` qualifier, else `platform`.
 */
export function unitKeyFromPurl(purl: PackageUrl): string | undefined {
  if (purl.version === undefined) return undefined;
  let version: string = purl.version;
  let release = purl.qualifiers['release'];
  if (VERSION_RELEASE_TYPES.has(purl.type) && release === undefined) {
    const dash = version.lastIndexOf('-');
    if (dash > 0 && dash < version.length - 1) {
      release = version.slice(dash + 1);
      version = version.slice(0, dash);
    }
  }
  const platform = purl.qualifiers['arch'] ?? purl.qualifiers['platform'];
  if (release === undefined || platform === undefined) return undefined;
  const parts = [purl.name, version, release, platform];
  if (!parts.every((p) => PART.test(p)) || !PACKAGE_TYPE.test(purl.type)) return undefined;
  return [...parts, purl.type].join('/');
}

const HEX_LENGTH: Readonly<Record<string, number>> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
  sha1: 40,
};

/**
 * The digests a purl states: an OCI-style `sha256:<hex>` version, and the
 * `checksum` (or legacy `checksums`) qualifier `alg:hex,alg:hex`. Returns
 * undefined unless a sha256 is among them (receipts require one).
 */
export function digestFromPurl(purl: PackageUrl): DigestSet | undefined {
  const digests: Record<string, string> = {};
  const take = (entry: string): void => {
    const colon = entry.indexOf(':');
    if (colon <= 0) return;
    const alg = entry.slice(0, colon).toLowerCase();
    const hex = entry.slice(colon + 1).toLowerCase();
    const length = HEX_LENGTH[alg];
    if (length !== undefined && hex.length === length && /^[a-f0-9]+$/.test(hex))
      digests[alg] = hex;
  };
  if (purl.version !== undefined) take(purl.version);
  for (const key of ['checksum', 'checksums'])
    for (const entry of (purl.qualifiers[key] ?? '').split(',')) take(entry.trim());
  return digests['sha256'] === undefined ? undefined : digests;
}
