// The composition root's security half: reads the principals file and the TLS
// files the configuration names, and builds the authenticator. Kept beside
// composition.ts so that the store's composition and this one evolve apart.
import { readFileSync } from 'node:fs';
import type { Config, ConfigVariable } from './config.js';
import { ProvenantError } from './errors.js';
import { createAuthenticator, parseAuthFile, type Authenticator } from './security/index.js';

const readConfigured = (variable: ConfigVariable, path: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ProvenantError(
      'CONFIG_INVALID',
      `${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause: error, details: { variable } },
    );
  }
};

/** The authenticator the configuration describes (files read once, at start). */
export function loadAuthenticator(config: Config): Authenticator {
  const { file, oidc, anonymous } = config.auth;
  const principals =
    file === undefined
      ? undefined
      : parseAuthFile(readConfigured('PROVENANT_AUTH_FILE', file).toString('utf8'), file);
  return createAuthenticator({
    anonymous,
    ...(principals === undefined ? {} : { principals }),
    ...(oidc === undefined
      ? {}
      : {
          oidc: {
            issuer: oidc.issuer,
            audience: oidc.audience,
            algorithms: oidc.algorithms,
            clockToleranceSeconds: oidc.clockToleranceSeconds,
            ...(oidc.jwksUrl === undefined ? {} : { jwksUrl: oidc.jwksUrl }),
          },
        }),
  });
}

/** What the HTTP server takes to serve HTTPS (its `https` dependency), read from PEM files. */
export interface HttpsFiles {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
}

/** HTTPS options from the configured PEM files, or undefined for plain HTTP. */
export function loadTls(config: Config): HttpsFiles | undefined {
  const { tls } = config;
  if (tls === undefined) return undefined;
  return {
    cert: readConfigured('PROVENANT_TLS_CERT', tls.certFile),
    key: readConfigured('PROVENANT_TLS_KEY', tls.keyFile),
    ...(tls.clientCaFile === undefined
      ? {}
      : {
          ca: readConfigured('PROVENANT_TLS_CLIENT_CA', tls.clientCaFile),
          // Ask for a certificate but let the handshake finish without one: authentication
          // then answers a missing or untrusted certificate with a 401 problem.
          requestCert: true,
          rejectUnauthorized: false,
        }),
  };
}
