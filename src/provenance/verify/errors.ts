// The closed set of verification failures, each a code of the project's registry
// (src/errors.ts), and the mapping from @sigstore/verify's own error codes.
import type { VerificationError } from '@sigstore/verify';
import { ProvenantError, type ProvenantErrorOptions } from '../../errors.js';
import { sigstoreVerify } from '../../sigstore.js';

export const verifyErrorCodes = [
  'VERIFY_BUNDLE_NOT_JSON',
  'VERIFY_NOT_A_BUNDLE',
  'VERIFY_UNKNOWN_MEDIA_TYPE',
  'VERIFY_BAD_BASE64',
  'VERIFY_SIGNATURE_INVALID',
  'VERIFY_UNKNOWN_KEY',
  'VERIFY_IDENTITY_MISMATCH',
  'VERIFY_CERTIFICATE',
  'VERIFY_SUBJECT_MISMATCH',
  'VERIFY_TRUST_MATERIAL',
  'VERIFY_TLOG',
  'VERIFY_TIMESTAMP',
  'VERIFY_UNSUPPORTED',
] as const;

export type VerifyErrorCode = (typeof verifyErrorCodes)[number];

/** Why a bundle was rejected: one code of the closed set, the library's error as cause. */
export class BundleVerificationError extends ProvenantError {
  declare readonly code: VerifyErrorCode;

  constructor(code: VerifyErrorCode, message: string, options: ProvenantErrorOptions = {}) {
    super(code, message, options);
    this.name = 'BundleVerificationError';
  }
}

export const isBundleVerificationError = (error: unknown): error is BundleVerificationError =>
  error instanceof BundleVerificationError;

const libraryCodes: Record<VerificationError['code'], VerifyErrorCode> = {
  NOT_IMPLEMENTED_ERROR: 'VERIFY_UNSUPPORTED',
  TLOG_ERROR: 'VERIFY_TLOG',
  TLOG_INCLUSION_PROOF_ERROR: 'VERIFY_TLOG',
  TLOG_INCLUSION_PROMISE_ERROR: 'VERIFY_TLOG',
  TLOG_MISSING_INCLUSION_ERROR: 'VERIFY_TLOG',
  TLOG_BODY_ERROR: 'VERIFY_TLOG',
  CERTIFICATE_ERROR: 'VERIFY_CERTIFICATE',
  PUBLIC_KEY_ERROR: 'VERIFY_UNKNOWN_KEY',
  SIGNATURE_ERROR: 'VERIFY_SIGNATURE_INVALID',
  TIMESTAMP_ERROR: 'VERIFY_TIMESTAMP',
};

/** Our error for an error thrown by @sigstore/verify (or `undefined` when it is not one of its). */
export function fromLibraryError(error: unknown): BundleVerificationError | undefined {
  const { PolicyError, VerificationError } = sigstoreVerify();
  if (error instanceof PolicyError) {
    return new BundleVerificationError('VERIFY_IDENTITY_MISMATCH', error.message, { cause: error });
  }
  if (error instanceof VerificationError) {
    const code = libraryCodes[error.code] ?? 'VERIFY_SIGNATURE_INVALID';
    return new BundleVerificationError(code, `${error.code}: ${error.message}`, { cause: error });
  }
  return undefined;
}
