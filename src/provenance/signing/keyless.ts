// Keyless signing (Fulcio certificate + Rekor and/or TSA witnesses) for networks
// that have these services. Only configuration lives here: the signer and the
// witnesses are @sigstore/sign's; signDsse combines them.
import type { IdentityProvider, Signer, Witness } from '@sigstore/sign';
import { sigstoreSign } from '../../sigstore.js';

export type { IdentityProvider };

export interface KeylessOptions {
  /** Fulcio base URL, e.g. https://fulcio.sigstore.dev. */
  readonly fulcioURL: string;
  /** Supplies the OIDC identity token Fulcio binds into the certificate. */
  readonly identityProvider: IdentityProvider;
  /** Rekor (v1 API) base URL; omit to log nowhere. */
  readonly rekorURL?: string;
  /**
   * Rekor entry kind for the envelope: 'dsse' (default) or the older
   * 'intoto'. The kind changes only how Rekor stores the entry.
   */
  readonly rekorEntryType?: 'dsse' | 'intoto';
  /** RFC 3161 timestamp authority base URL; omit for no signed timestamp. */
  readonly tsaURL?: string;
  /** Per-request timeout in milliseconds. */
  readonly timeout?: number;
  /** Retries per request (0 in tests). */
  readonly retry?: number;
}

export interface Keyless {
  readonly signer: Signer;
  readonly witnesses: Witness[];
}

/**
 * A FulcioSigner (ephemeral key, certificate for the token's identity) and the
 * witnesses for the configured services. At least one of Rekor or TSA is
 * needed for the bundle to verify later: a certificate is short-lived, and a
 * verifier needs a trusted time at which it was valid.
 */
export function keylessSigning(options: KeylessOptions): Keyless {
  const { FulcioSigner, RekorWitness, TSAWitness } = sigstoreSign();
  const fetchOptions = {
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
  };
  const signer = new FulcioSigner({
    fulcioBaseURL: options.fulcioURL,
    identityProvider: options.identityProvider,
    ...fetchOptions,
  });
  const witnesses: Witness[] = [];
  if (options.rekorURL !== undefined) {
    witnesses.push(
      new RekorWitness({
        rekorBaseURL: options.rekorURL,
        entryType: options.rekorEntryType ?? 'dsse',
        ...fetchOptions,
      }),
    );
  }
  if (options.tsaURL !== undefined) {
    witnesses.push(new TSAWitness({ tsaBaseURL: options.tsaURL, ...fetchOptions }));
  }
  return { signer, witnesses };
}
