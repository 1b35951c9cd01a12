// Public API of bundle verification: hand-picked (STYLE.md §17).
export { bundleMediaTypes, parseBundle } from './bundle.js';
export type { Bundle } from './bundle.js';
export { BundleVerificationError, isBundleVerificationError, verifyErrorCodes } from './errors.js';
export type { VerifyErrorCode } from './errors.js';
export { loadTrustedRoot, parseTrustedRoot, publicGoodTrustedRoot } from './trustedRoot.js';
export type { TrustedRoot } from './trustedRoot.js';
export { IN_TOTO_PAYLOAD_TYPE, verifyBundle } from './verify.js';
export type {
  ArtifactInput,
  SignerPolicy,
  VerifiedBundle,
  VerifiedSigner,
  VerifyBundleOptions,
} from './verify.js';
