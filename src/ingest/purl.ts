// Package URLs at ingest (https://github.com/package-url/purl-spec). CDEvents
// name artifacts by purl; ingest derives a unit and an artifact digest from one.
// Parsing is `packageurl-js` behind the domain's strict checks (src/domain/purl.ts);
// this module only adds the forgiving helpers ingest needs.
import { nvrppOfPurl, parsePurlStrict, type Purl } from '../domain/purl.js';
import type { DigestSet } from '../domain/receiptInput.js';
import { isProvenantError } from '../errors.js';

/** The components of a purl, percent-decoded. */
export type PackageUrl = Purl;

/** Parses a purl; returns undefined when it is not a well-formed one. */
export function parsePurl(text: string): PackageUrl | undefined {
  try {
    return parsePurlStrict(text);
  } catch (error) {
    if (isProvenantError(error)) return undefined;
    throw error;
  }
}

/**
 * The NVRPP unit key a purl abbreviates, or undefined when it lacks a part:
 * `pkg:rpm/fedora/openssl@3.2.1-2.el9?arch=x86_64` → `openssl/3.2.1/2.el9/x86_64/rpm`
 * (see src/domain/purl.ts for the rule).
 */
export const unitKeyFromPurl = (purl: PackageUrl): string | undefined => nvrppOfPurl(purl);

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
