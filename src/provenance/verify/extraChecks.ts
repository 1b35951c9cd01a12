// Checks on a parsed bundle that @sigstore/verify 4.x leaves out, made before
// the library runs so that their failures get their own codes.
import type { Bundle } from './bundle.js';
import { BundleVerificationError } from './errors.js';

/** Clock skew tolerated between a transparency log and this machine. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export function checkBundleConsistency(bundle: Bundle, now: Date = new Date()): void {
  // The bundle spec allows exactly one DSSE signature; the library would look
  // at the first one only and ignore the others.
  if (bundle.content.$case === 'dsseEnvelope') {
    const count = bundle.content.dsseEnvelope.signatures.length;
    if (count !== 1) {
      throw new BundleVerificationError(
        'VERIFY_NOT_A_BUNDLE',
        `the DSSE envelope has ${count} signatures; a bundle holds exactly one`,
      );
    }
  }
  // The library checks a certificate's validity at the integrated time, but
  // not that the log's time is not in the future (nor at all for key bundles).
  const latest = Math.floor(now.getTime() / 1000) + MAX_CLOCK_SKEW_SECONDS;
  for (const [i, entry] of bundle.verificationMaterial.tlogEntries.entries()) {
    const integrated = Number(entry.integratedTime);
    if (integrated > latest) {
      throw new BundleVerificationError(
        'VERIFY_TLOG',
        `tlog entry ${i} has an integrated time in the future (${new Date(integrated * 1000).toISOString()})`,
      );
    }
  }
}
