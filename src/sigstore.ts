// The sigstore packages, each loaded at its first use (the first signature,
// verification or signed event; a keyless configuration builds its signer at
// start), not when the CLI or the server starts: a static import loaded all of
// them at every CLI start, `--help` and commands that never sign included, and
// @sigstore/sign brings its HTTP client (make-fetch-happen, cacache, ...) along:
// 70-150 ms of CPU per start (`--help` 790 → 640 ms, `log verify` 430 → 310 ms,
// a SQLite `serve` until listening 1170 → 1060 ms, medians measured when this
// was made lazy).
// They are CommonJS, so require() loads one synchronously where it is first
// needed: verifyBundle, parseBundle and the ingest signature check stay
// synchronous (a dynamic import() would have made them and every caller async).
// Modules that need only their types import them with `import type`, which
// loads nothing. test/lazyAdapters.e2e.test.ts checks that `--help` and a
// SQLite `serve` start load none of them.
import { createRequire } from 'node:module';
import type * as SigstoreBundle from '@sigstore/bundle';
import type * as SigstoreCore from '@sigstore/core';
import type * as ProtobufSpecs from '@sigstore/protobuf-specs';
import type * as SigstoreSign from '@sigstore/sign';
import type * as SigstoreVerify from '@sigstore/verify';

const require = createRequire(import.meta.url);

/** A getter that loads the package `name` at its first call and then returns it. */
function onFirstUse<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}

/** @sigstore/bundle: the bundle media types, bundleFromJSON and bundleToJSON. */
export const sigstoreBundle = onFirstUse<typeof SigstoreBundle>('@sigstore/bundle');

/** @sigstore/core: DSSE's pre-authentication encoding. */
export const sigstoreCore = onFirstUse<typeof SigstoreCore>('@sigstore/core');

/** @sigstore/protobuf-specs: the TrustedRoot message. */
export const protobufSpecs = onFirstUse<typeof ProtobufSpecs>('@sigstore/protobuf-specs');

/** @sigstore/sign: the DSSE bundle builder, the Fulcio signer, the Rekor and TSA witnesses. */
export const sigstoreSign = onFirstUse<typeof SigstoreSign>('@sigstore/sign');

/** @sigstore/verify: the Verifier, its trust material and its errors. */
export const sigstoreVerify = onFirstUse<typeof SigstoreVerify>('@sigstore/verify');
