// Units named by package URL (issue 18; docs/units.md). A purl
// (https://github.com/package-url/purl-spec) is parsed and built with
// `packageurl-js`; this module adds what a unit needs on top of the spec:
//
// - strictness the library leaves out (a qualifier with no value, an empty name,
//   a length limit), each refused with its own error code;
// - the unit's identity: the canonical purl minus the qualifiers that describe an
//   artifact's bytes or aliases rather than the package (`checksum`, and for OCI
//   the `tag`), with an OCI image's version required to be its digest;
// - the NVRPP short form, both ways: `name/version/release/platform/packageType`
//   ⇔ `pkg:<packageType>/<name>@<version>-<release>?arch=<platform>` (rpm, deb, apk)
//   or `pkg:<packageType>/<name>@<version>?arch=<platform>&release=<release>`.
import { PackageURL } from 'packageurl-js';
import { ProvenantError } from '../errors.js';
import { parseUnitKey, type UnitKey } from './nvrpp.js';

/** Longest purl accepted, in characters (as sent, before canonicalisation). */
export const MAX_PURL_LENGTH = 1024;

/** The components of a purl, percent-decoded. */
export interface Purl {
  readonly type: string;
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
  readonly qualifiers: Readonly<Record<string, string>>;
  readonly subpath?: string;
}

/** Package types whose version is `upstream-release`. */
const VERSION_RELEASE_TYPES = new Set(['rpm', 'deb', 'apk']);
/** Qualifiers that describe bytes or aliases, not the package: not part of a unit's identity. */
const NON_IDENTITY_QUALIFIERS = new Set(['checksum', 'checksums']);
/** OCI: the tag is an alias of the digest. */
export const OCI_ALIAS_QUALIFIER = 'tag';
const OCI_DIGEST = /^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;
// The domain's NVRPP part syntax (src/domain/unitKey.ts).
const NVRPP_PART = /^[A-Za-z0-9][A-Za-z0-9._+~^:-]{0,99}$/;

const printable = (value: string): string =>
  // eslint-disable-next-line no-control-regex
  (value.length > 200 ? `${value.slice(0, 200)}…` : value).replace(/[\u0000-\u001f\u007f]/g, '?');

const malformed = (text: string, reason: string): ProvenantError =>
  new ProvenantError(
    'DOMAIN_INVALID_PURL',
    `Malformed package URL '${printable(text)}': ${reason}`,
    {
      details: { purl: printable(text), reason },
    },
  );

/** True for text that claims to be a purl (the `pkg:` scheme). */
export const looksLikePurl = (text: string): boolean => /^pkg:/i.test(text);

/**
 * Parses a purl strictly. Throws `DOMAIN_PURL_TOO_LONG` over {@link MAX_PURL_LENGTH}
 * and `DOMAIN_INVALID_PURL` (with the reason) for anything the purl specification
 * or `packageurl-js` refuses, an empty name, or a qualifier with no value.
 */
export function parsePurlStrict(text: string): Purl {
  if (text.length > MAX_PURL_LENGTH)
    throw new ProvenantError(
      'DOMAIN_PURL_TOO_LONG',
      `Package URL is ${text.length} characters long; the limit is ${MAX_PURL_LENGTH}`,
      { details: { length: text.length, limit: MAX_PURL_LENGTH } },
    );
  if (!looksLikePurl(text)) throw malformed(text, "a package URL starts with 'pkg:'");
  // What packageurl-js lets through: `?a` or `?a=` (it drops them), `pkg:npm/@1`.
  const hash = text.indexOf('#');
  const beforeHash = hash >= 0 ? text.slice(0, hash) : text;
  const question = beforeHash.indexOf('?');
  if (question >= 0)
    for (const pair of beforeHash.slice(question + 1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1)
        throw malformed(text, `qualifier '${printable(pair)}' has no key or no value`);
    }
  const path = question >= 0 ? beforeHash.slice(0, question) : beforeHash;
  const at = path.lastIndexOf('@');
  const beforeVersion = (at >= 0 ? path.slice(0, at) : path).replace(/^pkg:\/*/i, '');
  const segments = beforeVersion.split('/').filter((s) => s !== '');
  if (segments.length === 0 || /^[^a-z]/i.test(segments[0] ?? ''))
    throw malformed(text, 'a package URL needs a type');
  if (segments.length < 2) throw malformed(text, 'a package URL needs a name');
  if (at >= 0 && at === path.length - 1) throw malformed(text, "the version after '@' is empty");
  let parsed: PackageURL;
  try {
    parsed = PackageURL.fromString(text);
  } catch (error) {
    throw malformed(text, error instanceof Error ? error.message : String(error));
  }
  if (!parsed.name) throw malformed(text, 'a package URL needs a name');
  const qualifiers = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(parsed.qualifiers ?? {}))
    if (typeof value === 'string') qualifiers[key] = value;
  return {
    type: parsed.type,
    ...(parsed.namespace ? { namespace: parsed.namespace } : {}),
    name: parsed.name,
    ...(parsed.version ? { version: parsed.version } : {}),
    qualifiers,
    ...(parsed.subpath ? { subpath: parsed.subpath } : {}),
  };
}

/** The canonical text of a purl (packageurl-js: lower-case type, sorted qualifiers, spec encoding). */
export const formatPurl = (purl: Purl): string =>
  new PackageURL(
    purl.type,
    purl.namespace,
    purl.name,
    purl.version,
    Object.keys(purl.qualifiers).length > 0 ? { ...purl.qualifiers } : undefined,
    purl.subpath,
  ).toString();

/**
 * The NVRPP a purl abbreviates, or undefined. Release: the part after the last `-`
 * of an rpm/deb/apk version, else the `release` qualifier. Platform: the `arch`
 * qualifier, else `platform`. The namespace is not part of an NVRPP (it never was).
 */
export function nvrppOfPurl(purl: Purl): string | undefined {
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
  if (!parts.every((p) => NVRPP_PART.test(p)) || !/^[a-z][a-z0-9.+-]{0,99}$/.test(purl.type))
    return undefined;
  return [...parts, purl.type].join('/');
}

/** The purl an NVRPP abbreviates (the inverse of {@link nvrppOfPurl}). */
export function purlOfNvrpp(key: UnitKey): Purl {
  const shortForm = VERSION_RELEASE_TYPES.has(key.packageType) && !key.release.includes('-');
  return {
    type: key.packageType,
    name: key.name,
    version: shortForm ? `${key.version}-${key.release}` : key.version,
    qualifiers: shortForm ? { arch: key.platform } : { arch: key.platform, release: key.release },
  };
}

/** A unit's names: its key (NVRPP where it has one, else the canonical purl). */
export interface UnitIdentity {
  /** What streams, events and read models key the unit by. */
  readonly key: string;
  /** The canonical purl of the unit. */
  readonly purl: string;
  /** The NVRPP short form, where the unit has one. */
  readonly nvrpp?: string;
  /** Aliases the purl carried that are not part of the identity (an OCI tag). */
  readonly aliases?: Readonly<Record<string, string>>;
}

/**
 * The unit a purl names. Throws `DOMAIN_PURL_NO_VERSION` without a version and
 * `DOMAIN_INVALID_OCI_DIGEST` for an OCI image whose version is not a digest.
 */
export function unitOfPurl(purl: Purl, text = formatPurl(purl)): UnitIdentity {
  if (purl.version === undefined)
    throw new ProvenantError(
      'DOMAIN_PURL_NO_VERSION',
      `Package URL '${printable(text)}' names no version; a unit is one version of a package`,
      { details: { purl: printable(text) } },
    );
  const nvrpp = nvrppOfPurl(purl);
  if (nvrpp !== undefined)
    return { key: nvrpp, purl: formatPurl(purlOfNvrpp(parseUnitKey(nvrpp))), nvrpp };
  const qualifiers = Object.create(null) as Record<string, string>;
  const aliases: Record<string, string> = {};
  for (const [key, value] of Object.entries(purl.qualifiers)) {
    if (NON_IDENTITY_QUALIFIERS.has(key)) continue;
    if (purl.type === 'oci' && key === OCI_ALIAS_QUALIFIER) aliases[key] = value;
    else qualifiers[key] = value;
  }
  if (purl.type === 'oci' && !OCI_DIGEST.test(purl.version))
    throw new ProvenantError(
      'DOMAIN_INVALID_OCI_DIGEST',
      `OCI image version '${printable(purl.version)}' is not a digest (sha256:<64 hex>); name an image by its digest and keep the tag as the 'tag' qualifier`,
      { details: { purl: printable(text), version: printable(purl.version) } },
    );
  const canonical = formatPurl({ ...purl, qualifiers });
  return {
    key: canonical,
    purl: canonical,
    ...(Object.keys(aliases).length > 0 ? { aliases } : {}),
  };
}

/**
 * The unit named by `text`, an NVRPP key or a purl. Throws the purl errors above,
 * or `DOMAIN_INVALID_UNIT_KEY` for a malformed NVRPP.
 */
export function resolveUnit(text: unknown): UnitIdentity {
  if (typeof text === 'string' && looksLikePurl(text))
    return unitOfPurl(parsePurlStrict(text), text);
  const key = parseUnitKey(text);
  const nvrpp = [key.name, key.version, key.release, key.platform, key.packageType].join('/');
  return { key: nvrpp, purl: formatPurl(purlOfNvrpp(key)), nvrpp };
}

/** The parts a unit is found by (`GET /v1/units?name=&type=`), from its key. */
export interface UnitNameParts {
  readonly type: string;
  readonly namespace?: string;
  readonly name: string;
  readonly version: string;
}

/** Name, type and version of a unit key (NVRPP or purl); undefined when it is neither. */
export function unitNameParts(key: string): UnitNameParts | undefined {
  try {
    if (!looksLikePurl(key)) {
      const nvrpp = parseUnitKey(key);
      return { type: nvrpp.packageType, name: nvrpp.name, version: nvrpp.version };
    }
    const purl = parsePurlStrict(key);
    return {
      type: purl.type,
      ...(purl.namespace === undefined ? {} : { namespace: purl.namespace }),
      name: purl.name,
      version: purl.version ?? '',
    };
  } catch {
    return undefined;
  }
}

/** The canonical purl and, where it exists, the NVRPP of a unit key, for responses. */
export function unitNamesOf(key: string): { purl?: string; nvrpp?: string } {
  try {
    const identity = resolveUnit(key);
    return {
      purl: identity.purl,
      ...(identity.nvrpp === undefined ? {} : { nvrpp: identity.nvrpp }),
    };
  } catch {
    return {};
  }
}

/**
 * Every name of the unit `key` names, the key as given first, then its NVRPP
 * and its canonical purl (a key that does not parse: itself alone). What a
 * producer's unit scope is matched against.
 */
export function unitAliases(key: string): string[] {
  const { purl, nvrpp } = unitNamesOf(key);
  const names = [key, nvrpp, purl].filter((name): name is string => name !== undefined);
  return [...new Set(names)];
}

/**
 * The units a purl selects (`GET /v1/units?purl=`): with a version, exactly the
 * unit it names (NVRPP and purl forms alike); without one, every version of the
 * package. Throws the purl errors for a malformed purl.
 */
export function unitsOfPurl(text: string): (unit: string) => boolean {
  const purl = parsePurlStrict(text);
  if (purl.version !== undefined) {
    const key = unitOfPurl(purl, text).key;
    return (unit) => unit === key;
  }
  return (unit) => {
    const parts = unitNameParts(unit);
    return (
      parts !== undefined &&
      parts.type === purl.type &&
      parts.name === purl.name &&
      // An NVRPP has no namespace: a namespaced purl still finds it.
      (purl.namespace === undefined || !looksLikePurl(unit) || parts.namespace === purl.namespace)
    );
  };
}
