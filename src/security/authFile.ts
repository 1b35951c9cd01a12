// The principals file (PROVENANT_AUTH_FILE): who may call, with which roles and,
// for producers, which scope. It holds no secret: static tokens appear only as
// their SHA-256 (`provenant tokens create` prints the line to add). Checked with
// zod at start; a bad file refuses to start with CONFIG_INVALID naming the path.
import { z } from 'zod';
import { ProvenantError } from '../errors.js';
import { roles } from './principal.js';
import type { ProducerScope } from './scope.js';

const globs = z.array(z.string().min(1).max(512)).max(256).default(['*']);

const scopeSchema = z.strictObject({
  sources: globs,
  types: globs,
  actions: globs,
  units: globs,
});

const grant = {
  roles: z.array(z.enum(roles)).min(1),
  /** Required for producers: a producer limited to nothing by mistake is worse than one refused at start. */
  scope: scopeSchema.optional(),
};

const producersHaveScope = (entry: { roles: readonly string[]; scope?: unknown }): boolean =>
  !entry.roles.includes('producer') || entry.scope !== undefined;
const scopeMessage = {
  message: 'a producer needs a "scope" (use ["*"] lists to allow everything)',
};

const tokenSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'the lower-case hex SHA-256 of the token'),
    ...grant,
  })
  .refine(producersHaveScope, scopeMessage);

const certificateSchema = z
  .strictObject({
    /** Distinguished name, attributes separated by commas, in any order: `CN=builder-1,O=Example`. */
    subject: z.string().min(3).max(1024),
    ...grant,
  })
  .refine(producersHaveScope, scopeMessage);

const oidcSchema = z
  .strictObject({
    /** Glob over the token's `sub` (`repo:example/app:*`). */
    subject: z.string().min(1).max(1024),
    ...grant,
  })
  .refine(producersHaveScope, scopeMessage);

const authFileSchema = z.strictObject({
  tokens: z.array(tokenSchema).default([]),
  certificates: z.array(certificateSchema).default([]),
  oidc: z.array(oidcSchema).default([]),
});

/** A principal rule of the file, as the authenticator uses it. */
export interface Grant {
  readonly roles: readonly (typeof roles)[number][];
  readonly scope?: ProducerScope;
}
export interface TokenEntry extends Grant {
  readonly name: string;
  readonly sha256: string;
}
export interface CertificateEntry extends Grant {
  readonly subject: string;
}
export interface OidcSubjectEntry extends Grant {
  readonly subject: string;
}
export interface AuthFile {
  readonly tokens: readonly TokenEntry[];
  readonly certificates: readonly CertificateEntry[];
  readonly oidc: readonly OidcSubjectEntry[];
}

/** Parses the principals file's text; `CONFIG_INVALID` names the file and the first problem. */
export function parseAuthFile(text: string, path: string): AuthFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProvenantError('CONFIG_INVALID', `PROVENANT_AUTH_FILE: ${path} is not JSON`, {
      cause: error,
      details: { variable: 'PROVENANT_AUTH_FILE' },
    });
  }
  const parsed = authFileSchema.safeParse(json);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const where = issue === undefined ? '' : issue.path.join('.');
    throw new ProvenantError(
      'CONFIG_INVALID',
      `PROVENANT_AUTH_FILE: ${path}: ${where === '' ? '' : `${where}: `}${issue?.message ?? 'invalid'}`,
      { details: { variable: 'PROVENANT_AUTH_FILE' } },
    );
  }
  const names = new Set<string>();
  for (const token of parsed.data.tokens) {
    if (names.has(token.name))
      throw new ProvenantError(
        'CONFIG_INVALID',
        `PROVENANT_AUTH_FILE: ${path}: token name ${token.name} is used twice`,
        { details: { variable: 'PROVENANT_AUTH_FILE' } },
      );
    names.add(token.name);
  }
  return parsed.data;
}
