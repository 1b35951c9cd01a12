// Signing a payload as a DSSE envelope inside a Sigstore bundle. The envelope,
// the PAE and the bundle come from @sigstore/sign and @sigstore/bundle
// (STYLE.md §8); this module only chooses the signer and the witnesses.
import type { SerializedBundle } from '@sigstore/bundle';
import type { Signer, Witness } from '@sigstore/sign';
import { ProvenantError } from '../../errors.js';
import { sigstoreBundle, sigstoreSign } from '../../sigstore.js';

export type { SerializedBundle };

/** Media type of the bundles signDsse produces (Sigstore bundle v0.3). */
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * Signs `payload` as a DSSE envelope of `payloadType` and returns the Sigstore
 * bundle (v0.3) as JSON. With no witnesses (the default) the bundle holds only
 * the signature and key material: offline, for a LocalKeySigner. Keyless
 * signing passes a FulcioSigner and Rekor/TSA witnesses (see keyless.ts).
 * Failures of the keyless services surface as SIGN_FAILED with the
 * @sigstore/sign error as cause.
 */
export async function signDsse(
  payload: Buffer,
  payloadType: string,
  signer: Signer,
  witnesses: readonly Witness[] = [],
): Promise<SerializedBundle> {
  const { DSSEBundleBuilder, InternalError } = sigstoreSign();
  const { bundleToJSON } = sigstoreBundle();
  const builder = new DSSEBundleBuilder({ signer, witnesses: [...witnesses] });
  try {
    const bundle = await builder.create({ data: payload, type: payloadType });
    return bundleToJSON(bundle);
  } catch (error) {
    if (error instanceof InternalError) {
      // The library quotes the whole identity token in some messages: a
      // credential, so those messages are not repeated.
      const message = error.code.startsWith('IDENTITY_TOKEN_')
        ? 'the identity token cannot be read or parsed'
        : error.message;
      throw new ProvenantError('SIGN_FAILED', `${error.code}: ${message}`, { cause: error });
    }
    throw error;
  }
}
