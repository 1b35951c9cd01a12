// Trust material for certificate (keyless) bundles: a trusted root read from a
// file, or the Sigstore public-good root that @sigstore/tuf embeds — read
// offline, never refreshed over the network. @sigstore/verify takes a root as
// it is; the checks it leaves out (a validity start on every authority) are
// made here.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { protobufSpecs } from '../../sigstore.js';
import { BundleVerificationError } from './errors.js';

export type { TrustedRoot };

const TRUSTED_ROOT_MEDIA_TYPES = new Set([
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.1+json',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
]);

/** The public-good production root as embedded in @sigstore/tuf's `seeds.json`. */
export const PUBLIC_GOOD_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

let publicGood: TrustedRoot | undefined;

/** The Sigstore public-good trusted root embedded in @sigstore/tuf (read once, offline). */
export function publicGoodTrustedRoot(): TrustedRoot {
  if (publicGood === undefined) {
    const require = createRequire(import.meta.url);
    const seeds = JSON.parse(
      readFileSync(require.resolve('@sigstore/tuf/seeds.json'), 'utf8'),
    ) as Record<string, { targets?: Record<string, string> } | undefined>;
    const target = seeds[PUBLIC_GOOD_TUF_MIRROR]?.targets?.['trusted_root.json'];
    if (target === undefined) {
      throw new BundleVerificationError(
        'VERIFY_TRUST_MATERIAL',
        '@sigstore/tuf does not embed a public-good trusted_root.json',
      );
    }
    publicGood = parseTrustedRoot(
      Buffer.from(target, 'base64').toString('utf8'),
      'embedded public-good root',
    );
  }
  return publicGood;
}

/** A trusted root from a JSON file; VERIFY_TRUST_MATERIAL when unreadable or invalid. */
export function loadTrustedRoot(path: string): TrustedRoot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BundleVerificationError('VERIFY_TRUST_MATERIAL', `cannot read trusted root ${path}`, {
      cause: error,
    });
  }
  return parseTrustedRoot(text, path);
}

/** Parses and checks a trusted root (see checkTrustedRoot). */
export function parseTrustedRoot(json: unknown, source = 'trusted root'): TrustedRoot {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new BundleVerificationError('VERIFY_TRUST_MATERIAL', `${source} is not JSON`, {
        cause: error,
      });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BundleVerificationError('VERIFY_TRUST_MATERIAL', `${source} is not a JSON object`);
  }
  const mediaType = (value as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !TRUSTED_ROOT_MEDIA_TYPES.has(mediaType)) {
    throw new BundleVerificationError(
      'VERIFY_TRUST_MATERIAL',
      `${source} has unknown media type ${JSON.stringify(mediaType)}`,
    );
  }
  let root: TrustedRoot;
  try {
    root = protobufSpecs().TrustedRoot.fromJSON(value);
  } catch (error) {
    throw new BundleVerificationError('VERIFY_TRUST_MATERIAL', `${source} is malformed`, {
      cause: error,
    });
  }
  checkTrustedRoot(root, source);
  return root;
}

/** Roots that passed checkTrustedRoot: a root object is checked once, not on every verification. */
const checkedRoots = new WeakSet<TrustedRoot>();

/**
 * What @sigstore/verify does not check in a root: every authority has key or
 * certificate material and a validity start (a missing start would make the
 * library trust the key since the epoch), and no validity ends before it starts.
 * A root object is checked once (roots are not changed after they are parsed).
 */
export function checkTrustedRoot(root: TrustedRoot, source = 'trusted root'): void {
  if (checkedRoots.has(root)) return;
  checkTrustedRootOnce(root, source);
  checkedRoots.add(root);
}

function checkTrustedRootOnce(root: TrustedRoot, source: string): void {
  const fail = (what: string): never => {
    throw new BundleVerificationError('VERIFY_TRUST_MATERIAL', `${source}: ${what}`);
  };
  const checkRange = (what: string, validFor: { start?: Date; end?: Date } | undefined): void => {
    if (validFor?.start === undefined) fail(`${what} has no validFor.start`);
    if (
      validFor?.end !== undefined &&
      validFor.start !== undefined &&
      validFor.end < validFor.start
    ) {
      fail(`${what} ends before it starts`);
    }
  };
  for (const [kind, logs] of [
    ['tlog', root.tlogs],
    ['ctlog', root.ctlogs],
  ] as const) {
    logs.forEach((log, i) => {
      const what = `${kind} ${log.baseUrl || `#${i}`}`;
      if (!log.publicKey?.rawBytes?.length) fail(`${what} has no public key`);
      if (!log.logId?.keyId?.length) fail(`${what} has no log id`);
      checkRange(what, log.publicKey?.validFor);
    });
  }
  for (const [kind, authorities] of [
    ['certificate authority', root.certificateAuthorities],
    ['timestamp authority', root.timestampAuthorities],
  ] as const) {
    authorities.forEach((ca, i) => {
      const what = `${kind} ${ca.uri || `#${i}`}`;
      if (!ca.certChain?.certificates.length) fail(`${what} has no certificates`);
      checkRange(what, ca.validFor);
    });
  }
}
