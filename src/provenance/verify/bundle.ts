// Reading a Sigstore bundle from JSON with a precise reason when it is not one.
// Parsing proper is @sigstore/bundle's (bundleFromJSON, which validates); this
// module adds what that leaves lenient: the media type must be a known bundle
// version, and base64 fields must be base64 (Buffer.from ignores bad characters).
import type { Bundle } from '@sigstore/bundle';
import { sigstoreBundle } from '../../sigstore.js';
import { BundleVerificationError } from './errors.js';

export type { Bundle };

/** The media types of the bundle versions parseBundle reads (v0.1 to v0.3), as @sigstore/bundle names them. */
export function bundleMediaTypes(): readonly string[] {
  const bundle = sigstoreBundle();
  return [
    bundle.BUNDLE_V01_MEDIA_TYPE,
    bundle.BUNDLE_V02_MEDIA_TYPE,
    bundle.BUNDLE_V03_LEGACY_MEDIA_TYPE,
    bundle.BUNDLE_V03_MEDIA_TYPE,
  ];
}

/** Base64 fields of a serialized bundle, as paths of keys ('*' for each array element). */
const BASE64_FIELDS: readonly (readonly string[])[] = [
  ['messageSignature', 'signature'],
  ['messageSignature', 'messageDigest', 'digest'],
  ['dsseEnvelope', 'payload'],
  ['dsseEnvelope', 'signatures', '*', 'sig'],
  ['verificationMaterial', 'certificate', 'rawBytes'],
  ['verificationMaterial', 'x509CertificateChain', 'certificates', '*', 'rawBytes'],
  ['verificationMaterial', 'tlogEntries', '*', 'canonicalizedBody'],
  ['verificationMaterial', 'tlogEntries', '*', 'logId', 'keyId'],
  ['verificationMaterial', 'tlogEntries', '*', 'inclusionPromise', 'signedEntryTimestamp'],
  ['verificationMaterial', 'tlogEntries', '*', 'inclusionProof', 'rootHash'],
  ['verificationMaterial', 'tlogEntries', '*', 'inclusionProof', 'hashes', '*'],
  [
    'verificationMaterial',
    'timestampVerificationData',
    'rfc3161Timestamps',
    '*',
    'signedTimestamp',
  ],
];

// Proto3 JSON accepts standard and URL-safe base64, padded or not.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const isBase64 = (text: string): boolean =>
  BASE64.test(text) && text.replace(/=+$/, '').length % 4 !== 1;

/**
 * Calls `visit` with each value at `path` (`*` = every array item) and where it
 * is; stops at the first `false`. A plain recursion, not a generator: it runs
 * on every verification.
 */
function everyValueAt(
  value: unknown,
  path: readonly string[],
  depth: number,
  at: string,
  visit: (at: string, value: unknown) => boolean,
): boolean {
  if (depth === path.length) return visit(at, value);
  const key = path[depth] as string;
  if (key === '*') {
    if (!Array.isArray(value)) return true;
    for (let i = 0; i < value.length; i++)
      if (!everyValueAt(value[i], path, depth + 1, `${at}[${i}]`, visit)) return false;
    return true;
  }
  if (typeof value === 'object' && value !== null && Object.hasOwn(value, key))
    return everyValueAt(
      (value as Record<string, unknown>)[key],
      path,
      depth + 1,
      at ? `${at}.${key}` : key,
      visit,
    );
  return true;
}

/**
 * Parses a serialized bundle (JSON text or an already-parsed value). Throws
 * VERIFY_BUNDLE_NOT_JSON, VERIFY_NOT_A_BUNDLE, VERIFY_UNKNOWN_MEDIA_TYPE or
 * VERIFY_BAD_BASE64.
 */
export function parseBundle(input: unknown): Bundle {
  let json: unknown = input;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    try {
      json = JSON.parse(input.toString());
    } catch (error) {
      throw new BundleVerificationError('VERIFY_BUNDLE_NOT_JSON', 'the bundle is not valid JSON', {
        cause: error,
      });
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new BundleVerificationError('VERIFY_NOT_A_BUNDLE', 'the bundle is not a JSON object');
  }
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string') {
    throw new BundleVerificationError('VERIFY_NOT_A_BUNDLE', 'the bundle has no mediaType');
  }
  if (!bundleMediaTypes().includes(mediaType)) {
    throw new BundleVerificationError(
      'VERIFY_UNKNOWN_MEDIA_TYPE',
      `unsupported bundle media type ${JSON.stringify(mediaType)}`,
    );
  }
  for (const path of BASE64_FIELDS) {
    everyValueAt(json, path, 0, '', (at, value) => {
      if (typeof value !== 'string' || !isBase64(value)) {
        throw new BundleVerificationError('VERIFY_BAD_BASE64', `${at} is not base64`);
      }
      return true;
    });
  }
  const { bundleFromJSON, ValidationError } = sigstoreBundle();
  try {
    // Also checks the version's required fields (e.g. v0.2+ needs inclusion proofs).
    return bundleFromJSON(json);
  } catch (error) {
    const fields = error instanceof ValidationError ? (error.fields ?? []) : [];
    const reason = `${error instanceof Error ? `: ${error.message}` : ''}${
      fields.length > 0 ? ` (${fields.join(', ')})` : ''
    }`;
    // A tlog entry without an inclusion proof or checkpoint cannot be checked
    // offline: a transparency failure rather than a malformed document.
    const code = fields.some((f) => f.includes('inclusionProof') || f.includes('inclusionPromise'))
      ? 'VERIFY_TLOG'
      : 'VERIFY_NOT_A_BUNDLE';
    throw new BundleVerificationError(code, `the bundle is malformed${reason}`, { cause: error });
  }
}
