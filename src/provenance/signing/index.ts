// Public API of signing: hand-picked (STYLE.md §17).
export { BUNDLE_MEDIA_TYPE, signDsse } from './dsse.js';
export type { SerializedBundle } from './dsse.js';
export { keylessSigning } from './keyless.js';
export type { IdentityProvider, Keyless, KeylessOptions } from './keyless.js';
export {
  generateSigningKeyPair,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  writeSigningKeyPair,
} from './keys.js';
export type { GeneratedKeyPair, WrittenKeyPair } from './keys.js';
export { keyIdOf, LocalKeySigner } from './localKey.js';
export type { Signature, Signer, Witness } from '@sigstore/sign';
