// Verifying a Sigstore bundle against an artifact and a policy, with explicit
// trust material: @sigstore/verify's Verifier does the cryptography (signature,
// certificate chain, SCTs, tlog inclusion, timestamps); this module chooses the
// trust material and thresholds, checks what the library leaves to its caller
// (the artifact against the signed content), and maps every failure to one code.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { TrustMaterial, VerifierOptions } from '@sigstore/verify';
import { sigstoreVerify } from '../../sigstore.js';
import { parseBundle, type Bundle } from './bundle.js';
import { BundleVerificationError, fromLibraryError } from './errors.js';
import { checkBundleConsistency } from './extraChecks.js';
import { checkTrustedRoot, publicGoodTrustedRoot, type TrustedRoot } from './trustedRoot.js';

/** The artifact a bundle is about: its bytes, or only its SHA-256 digest. */
export type ArtifactInput = { readonly bytes: Buffer } | { readonly sha256: string };

/** Who must have signed. */
export type SignerPolicy =
  /** A key-based bundle signed by this public key (PEM, DER SPKI or KeyObject). */
  | { readonly publicKey: string | Buffer | KeyObject }
  /**
   * A certificate bundle whose certificate names this identity (SAN; a string
   * matches exactly, a RegExp as written) and this OIDC issuer (exactly).
   */
  | { readonly certificateIdentity: string | RegExp; readonly certificateIssuer: string };

export interface VerifyBundleOptions {
  /** Trust root for certificates, tlogs and TSAs; default: the embedded public-good root. */
  readonly trustedRoot?: TrustedRoot;
}

export type VerifiedSigner =
  | { readonly kind: 'key'; readonly keyId: string }
  | { readonly kind: 'certificate'; readonly identity: string; readonly issuer: string };

/** What a successful verification established. */
export interface VerifiedBundle {
  readonly mediaType: string;
  readonly content: 'dsseEnvelope' | 'messageSignature';
  /** DSSE payload type and payload (bytes as signed), for DSSE bundles. */
  readonly payloadType?: string;
  readonly payload?: Buffer;
  readonly signer: VerifiedSigner;
  /** Hex SHA-256 of the artifact that matched the signed content. */
  readonly artifactSha256?: string;
}

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/**
 * Verifies a serialized bundle. For message-signature bundles the artifact is
 * required and its digest must equal the signed digest; for DSSE bundles with
 * an in-toto payload the artifact's SHA-256 must be one of the statement's
 * subject digests, for other payload types it must be the payload's digest;
 * without an artifact a DSSE bundle is checked as a signed payload only.
 * Throws a BundleVerificationError with a VERIFY_* code.
 */
export function verifyBundle(
  serialized: unknown,
  policy: SignerPolicy,
  artifact?: ArtifactInput,
  options: VerifyBundleOptions = {},
): VerifiedBundle {
  const { toSignedEntity, toTrustMaterial, Verifier } = sigstoreVerify();
  const bundle = parseBundle(serialized);
  const root = options.trustedRoot ?? publicGoodTrustedRoot();
  checkTrustedRoot(root);
  checkBundleConsistency(bundle);

  const artifactSha256 = artifact === undefined ? undefined : sha256Of(artifact);
  if (bundle.content.$case === 'messageSignature') {
    checkMessageDigest(bundle.content.messageSignature, artifactSha256);
  } else {
    const { payloadType, payload } = bundle.content.dsseEnvelope;
    if (artifactSha256 !== undefined) checkDsseSubject(payloadType, payload, artifactSha256);
  }
  if (
    bundle.content.$case === 'messageSignature' &&
    (artifact === undefined || !('bytes' in artifact))
  ) {
    // Node's crypto cannot verify an ECDSA signature over a precomputed digest.
    throw new BundleVerificationError(
      'VERIFY_UNSUPPORTED',
      'a message-signature bundle needs the artifact file, not only its digest',
    );
  }

  const keyBased = 'publicKey' in policy;
  const material = bundle.verificationMaterial.content;
  if (keyBased && material.$case !== 'publicKey') {
    throw new BundleVerificationError(
      'VERIFY_UNKNOWN_KEY',
      'the bundle is signed with a certificate, but a public key was expected',
    );
  }
  if (!keyBased && material.$case === 'publicKey') {
    throw new BundleVerificationError(
      'VERIFY_UNKNOWN_KEY',
      'the bundle is signed with a key, but no public key was given',
    );
  }

  let verifiedKeyId: string | undefined;
  let trust: TrustMaterial;
  let verifierOptions: VerifierOptions;
  if (keyBased) {
    const key = toPublicKey(policy.publicKey);
    const keyId = keyIdBytes(key);
    const keyIdHex = keyId.toString('hex');
    verifiedKeyId = keyIdHex;
    trust = trustMaterial(root, keyIdHex, () => {
      // The hint names the key; Provenant writes the hex key id, other clients the
      // base64 of the same digest; an empty hint leaves the choice to the caller.
      const acceptedHints = new Set(['', keyIdHex, keyId.toString('base64')]);
      return toTrustMaterial(root, (hint) => {
        if (!acceptedHints.has(hint)) {
          throw new BundleVerificationError(
            'VERIFY_UNKNOWN_KEY',
            `the bundle names key ${hint}, not the given key ${keyIdHex}`,
          );
        }
        return { publicKey: key, validFor: () => true };
      });
    });
    // A local key needs no witnesses; tlog entries and timestamps that are
    // present are still verified against the trusted root.
    verifierOptions = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };
  } else {
    // Built per verification: a cached certificate-based trust material made a
    // later keyless verification fail ("invalid time"), so only key-based trust
    // material, which a release gate verifies with over and over, is cached.
    trust = libraryCall(() => toTrustMaterial(root));
    verifierOptions = { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 };
  }

  const entity = libraryCall(() =>
    toSignedEntity(
      bundle,
      artifact !== undefined && 'bytes' in artifact ? artifact.bytes : undefined,
    ),
  );
  const verifier = new Verifier(trust, verifierOptions);
  // @sigstore/verify treats a string SAN as an unanchored regular expression
  // ('x' would match any identity containing an x): a string is compared
  // exactly here instead, a RegExp is the caller's explicit choice.
  const signer = libraryCall(() =>
    verifier.verify(
      entity,
      keyBased
        ? undefined
        : {
            ...(policy.certificateIdentity instanceof RegExp
              ? { subjectAlternativeName: policy.certificateIdentity }
              : {}),
            extensions: { issuer: policy.certificateIssuer },
          },
    ),
  );
  if (!keyBased && typeof policy.certificateIdentity === 'string') {
    const identity = signer.identity?.subjectAlternativeName;
    if (identity !== policy.certificateIdentity) {
      throw new BundleVerificationError(
        'VERIFY_IDENTITY_MISMATCH',
        `the certificate identity is ${JSON.stringify(identity)}, not ${JSON.stringify(policy.certificateIdentity)}`,
      );
    }
  }

  return {
    mediaType: bundle.mediaType,
    content: bundle.content.$case,
    ...(bundle.content.$case === 'dsseEnvelope'
      ? {
          payloadType: bundle.content.dsseEnvelope.payloadType,
          payload: bundle.content.dsseEnvelope.payload,
        }
      : {}),
    signer:
      verifiedKeyId !== undefined
        ? { kind: 'key', keyId: verifiedKeyId }
        : {
            kind: 'certificate',
            identity: signer.identity?.subjectAlternativeName ?? '',
            issuer: signer.identity?.extensions?.issuer ?? '',
          },
    ...(artifactSha256 === undefined ? {} : { artifactSha256 }),
  };
}

/** Runs a @sigstore/verify call and maps its errors to ours. */
function libraryCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof BundleVerificationError) throw error;
    const mapped = fromLibraryError(error);
    if (mapped !== undefined) throw mapped;
    throw new BundleVerificationError(
      'VERIFY_NOT_A_BUNDLE',
      `the bundle cannot be verified: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** Key ids (SHA-256 of the DER SPKI) of the key objects verified with, each computed once. */
const keyIds = new WeakMap<KeyObject, Buffer>();

function keyIdBytes(key: KeyObject): Buffer {
  let id = keyIds.get(key);
  if (id === undefined) {
    id = createHash('sha256')
      .update(key.export({ type: 'spki', format: 'der' }))
      .digest();
    keyIds.set(key, id);
  }
  return id;
}

/**
 * Key-based trust material per trusted root and signing key, built once: building it parses every key and certificate of the root, which costs
 * far more than verifying one signature.
 */
const trustCache = new WeakMap<TrustedRoot, Map<string, TrustMaterial>>();

function trustMaterial(
  root: TrustedRoot,
  keyIdHex: string,
  build: () => TrustMaterial,
): TrustMaterial {
  let byKey = trustCache.get(root);
  if (byKey === undefined) {
    byKey = new Map();
    trustCache.set(root, byKey);
  }
  let trust = byKey.get(keyIdHex);
  if (trust === undefined) {
    trust = libraryCall(build);
    // Bounded: one entry per key a caller verifies with.
    if (byKey.size >= 64) byKey.clear();
    byKey.set(keyIdHex, trust);
  }
  return trust;
}

function toPublicKey(key: string | Buffer | KeyObject): KeyObject {
  try {
    if (typeof key === 'object' && !Buffer.isBuffer(key)) {
      if (key.type !== 'public') throw new Error(`a ${key.type} key is not a public key`);
      return key;
    }
    const text = key.toString();
    return text.includes('-----BEGIN')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(key), format: 'der', type: 'spki' });
  } catch (error) {
    throw new BundleVerificationError('VERIFY_TRUST_MATERIAL', 'the public key cannot be read', {
      cause: error,
    });
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function sha256Of(artifact: ArtifactInput): string {
  if ('bytes' in artifact) return createHash('sha256').update(artifact.bytes).digest('hex');
  const hex = artifact.sha256.toLowerCase().replace(/^sha256:/, '');
  if (!SHA256_HEX.test(hex)) {
    throw new BundleVerificationError(
      'VERIFY_SUBJECT_MISMATCH',
      `artifact digest ${JSON.stringify(artifact.sha256)} is not a SHA-256 hex digest`,
    );
  }
  return hex;
}

function checkMessageDigest(
  signature: Extract<Bundle['content'], { $case: 'messageSignature' }>['messageSignature'],
  artifactSha256: string | undefined,
): void {
  if (artifactSha256 === undefined) {
    throw new BundleVerificationError(
      'VERIFY_SUBJECT_MISMATCH',
      'a message-signature bundle can only be verified against its artifact',
    );
  }
  const signed = signature.messageDigest.digest.toString('hex');
  if (signed !== artifactSha256) {
    throw new BundleVerificationError(
      'VERIFY_SUBJECT_MISMATCH',
      `the artifact's sha256 ${artifactSha256} is not the signed digest ${signed}`,
    );
  }
}

function checkDsseSubject(payloadType: string, payload: Buffer, artifactSha256: string): void {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    const digest = createHash('sha256').update(payload).digest('hex');
    if (digest !== artifactSha256) {
      throw new BundleVerificationError(
        'VERIFY_SUBJECT_MISMATCH',
        `the artifact's sha256 ${artifactSha256} is not the payload's ${digest}`,
      );
    }
    return;
  }
  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    throw new BundleVerificationError(
      'VERIFY_SUBJECT_MISMATCH',
      'the in-toto payload is not JSON',
      { cause: error },
    );
  }
  const subjects = (statement as { subject?: unknown } | null)?.subject;
  if (!Array.isArray(subjects)) {
    throw new BundleVerificationError(
      'VERIFY_SUBJECT_MISMATCH',
      'the in-toto statement has no subject list',
    );
  }
  const digests = subjects.map((s: unknown) => {
    const d = (s as { digest?: { sha256?: unknown } } | null)?.digest?.sha256;
    return typeof d === 'string' ? d.toLowerCase() : undefined;
  });
  if (!digests.includes(artifactSha256)) {
    throw new BundleVerificationError(
      'VERIFY_SUBJECT_MISMATCH',
      `no subject of the in-toto statement has sha256 ${artifactSha256}`,
    );
  }
}
