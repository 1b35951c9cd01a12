// The field types every in-toto predicate shares: URIs, RFC 3339 timestamps,
// digest sets and ResourceDescriptor v1, as zod schemas with their inferred types.
// Field rules: https://github.com/in-toto/attestation/blob/main/spec/v1/field_types.md
// and https://github.com/in-toto/attestation/blob/main/spec/v1/resource_descriptor.md
//
// Objects are parsed loosely: fields this module does not know are kept and
// ignored, as the in-toto parsing rules ask of consumers
// (https://github.com/in-toto/attestation/blob/main/spec/v1/README.md#parsing-rules).
import { z } from 'zod';
import { isRfc3339 } from '../rfc3339.js';

export { isRfc3339 };

/** Marks a zod issue as a digest problem, so that parsers can report PROVENANCE_BAD_DIGEST. */
export const DIGEST_ISSUE = 'provenance.digest';

// RFC 3986 §3: scheme ":" then only unreserved, reserved and percent-encoded octets.
const URI_RE = /^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;

/** Whether `value` is an absolute URI (RFC 3986 §4.3 plus fragment) such as `https://…` or `pkg:…`. */
export const isUri = (value: string): boolean => URI_RE.test(value);

/**
 * ResourceURI / TypeURI (field_types.md): an RFC 3986 URI with a scheme. Not
 * `z.url()`: WHATWG URL parsing accepts and silently escapes what RFC 3986 forbids.
 */
export const UriSchema = z
  .string()
  .refine(isUri, { message: 'must be an RFC 3986 URI with a scheme' });

/** Timestamp (field_types.md): an RFC 3339 date-time, e.g. `2026-05-01T12:00:00Z`. */
export const TimestampSchema = z
  .string()
  .refine(isRfc3339, { message: 'must be an RFC 3339 date-time with a time zone' });

/**
 * Hex lengths of the algorithms whose digest size is fixed (field_types.md,
 * DigestSet). `gitCommit`/`gitTree`/`gitBlob`/`gitTag` are SHA-1 or SHA-256
 * object names. Other algorithms are accepted with any non-empty lower-case hex.
 */
export const DIGEST_HEX_LENGTHS: Readonly<Record<string, readonly number[]>> = {
  sha256: [64],
  sha224: [56],
  sha384: [96],
  sha512: [128],
  sha1: [40],
  md5: [32],
  gitCommit: [40, 64],
  gitTree: [40, 64],
  gitBlob: [40, 64],
  gitTag: [40, 64],
};

const LOWER_HEX_RE = /^[0-9a-f]+$/;
const ALGORITHM_RE = /^[A-Za-z0-9_-]+$/;

/** The problem with one digest entry, or undefined when it is well-formed. */
export function digestProblem(algorithm: string, value: string): string | undefined {
  if (!ALGORITHM_RE.test(algorithm)) return `algorithm name '${algorithm}' is malformed`;
  if (!LOWER_HEX_RE.test(value)) return `${algorithm} must be lower-case hex`;
  const lengths = Object.hasOwn(DIGEST_HEX_LENGTHS, algorithm)
    ? DIGEST_HEX_LENGTHS[algorithm]
    : undefined;
  if (lengths !== undefined && !lengths.includes(value.length))
    return `${algorithm} must be ${lengths.join(' or ')} hex characters, got ${value.length}`;
  return undefined;
}

/** DigestSet: algorithm → lower-case hex, at least one entry. */
export const DigestSetSchema = z.record(z.string(), z.string()).superRefine((digest, ctx) => {
  const entries = Object.entries(digest);
  if (entries.length === 0)
    ctx.addIssue({
      code: 'custom',
      message: 'a digest set needs at least one algorithm',
      params: { kind: DIGEST_ISSUE },
    });
  for (const [algorithm, value] of entries) {
    const problem = digestProblem(algorithm, value);
    if (problem !== undefined)
      ctx.addIssue({
        code: 'custom',
        message: problem,
        path: [algorithm],
        params: { kind: DIGEST_ISSUE },
      });
  }
});
export type DigestSet = z.infer<typeof DigestSetSchema>;

// RFC 6838 §4.2 type/subtype, optionally followed by parameters.
const MEDIA_TYPE_RE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(?:\s*;.*)?$/;

const resourceDescriptorShape = {
  name: z.string().min(1).optional(),
  uri: UriSchema.optional(),
  digest: DigestSetSchema.optional(),
  /** The resource's bytes, base64 (RFC 4648 §4). */
  content: z.base64().optional(),
  downloadLocation: UriSchema.optional(),
  mediaType: z.string().regex(MEDIA_TYPE_RE, 'must be a media type').optional(),
  /** Extra information; values are any JSON. */
  annotations: z.record(z.string(), z.json()).optional(),
};

/**
 * ResourceDescriptor v1: a reference to an artifact or resource. All fields are
 * optional, but at least one of `uri`, `digest` or `content` must be set.
 */
export const ResourceDescriptorSchema = z
  .looseObject(resourceDescriptorShape)
  .refine((rd) => rd.uri !== undefined || rd.digest !== undefined || rd.content !== undefined, {
    message: 'a ResourceDescriptor needs at least one of uri, digest or content',
  });
export type ResourceDescriptor = z.infer<typeof ResourceDescriptorSchema>;

/**
 * A ResourceDescriptor that must carry a digest: a Statement subject (Statement
 * v1: "Each element MUST have digest set"), a VSA input attestation.
 */
export const DigestedResourceDescriptorSchema = z.looseObject({
  ...resourceDescriptorShape,
  digest: DigestSetSchema,
});
export type DigestedResourceDescriptor = z.infer<typeof DigestedResourceDescriptorSchema>;
