// SLSA Verification Summary (VSA) v1: a verifier's statement that it checked an
// artifact against a policy, which attestations it used, and what it concluded.
// Spec: https://slsa.dev/spec/v1.0/verification_summary
import { z } from 'zod';
import {
  DigestSetSchema,
  DigestedResourceDescriptorSchema,
  TimestampSchema,
  UriSchema,
} from './resourceDescriptor.js';

/** predicateType of SLSA VSA v1 (https://slsa.dev/spec/v1.0/verification_summary). */
export const SLSA_VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';

/** The two verdicts a VSA can carry. */
export const VerificationResultSchema = z.enum(['PASSED', 'FAILED']);
export type VerificationResult = z.infer<typeof VerificationResultSchema>;

// SlsaResult: `SLSA_<TRACK>_LEVEL_<n>` or an organisation's own `<ORG>_<PROPERTY>`
// (upper-case letters, digits and underscores).
const SLSA_RESULT_RE = /^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/;

/** The VSA v1 predicate. */
export const VsaSchema = z.looseObject({
  verifier: z.looseObject({
    /** TypeURI of the verifier; consumers check it against the verifiers they trust. */
    id: UriSchema,
    /** Component name → version. */
    version: z.record(z.string(), z.string()).optional(),
  }),
  timeVerified: TimestampSchema.optional(),
  /** URI of the artifact or unit that was verified. */
  resourceUri: UriSchema,
  /** The policy the resource was checked against. */
  policy: z.looseObject({ uri: UriSchema.optional(), digest: DigestSetSchema.optional() }),
  /** The attestations the verifier relied on. */
  inputAttestations: z.array(DigestedResourceDescriptorSchema).optional(),
  verificationResult: VerificationResultSchema,
  verifiedLevels: z.array(
    z.string().regex(SLSA_RESULT_RE, 'must be a SlsaResult like SLSA_BUILD_LEVEL_3'),
  ),
  /** Level → count of transitive dependencies verified at that level. */
  dependencyLevels: z.record(z.string(), z.number().int().nonnegative()).optional(),
  slsaVersion: z
    .string()
    .regex(/^\d+\.\d+$/, 'must be <major>.<minor>')
    .optional(),
});
export type Vsa = z.infer<typeof VsaSchema>;
