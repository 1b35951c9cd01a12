// The attestation service's types: what issuing takes and returns, what the
// queries show, and what signing needs (DESIGN.md §6; docs/provenance.md, "Issuing").
import type { AttestationIssuedData, AttestationKind } from '../../domain/events.js';
import type { EventStore } from '../../eventStore/types.js';
import type { SerializedBundle, Signer, Witness } from '../../provenance/signing/index.js';
import type { DefinitionsStore } from '../definitionsStore.js';

/** Who signs: a Signer (local key or keyless) and, for keyless, its witnesses. */
export interface AttestationSigning {
  signer: Signer;
  witnesses?: readonly Witness[];
  /** Recorded in AttestationIssued.signer. */
  identity: { kind: 'key'; keyId: string } | { kind: 'keyless'; identity?: string };
  /** The public key (PEM) of key signing: what verification uses when the caller names none. */
  publicKeyPem?: string;
}

import type { TransparencyService } from '../../transparency/service.js';

export interface AttestationServiceDeps {
  eventStore: EventStore;
  /** Shared with the domain service when given; else one of its own. */
  definitions?: DefinitionsStore;
  /** Without it, issuing fails with ATTEST_SIGNING_NOT_CONFIGURED (reads and verification work). */
  signing?: AttestationSigning;
  /** TypeURI of the builder in provenance; default DEFAULT_BUILDER_ID. */
  builderId?: string;
  /** TypeURI of the verifier in VSAs; default DEFAULT_VERIFIER_ID. */
  verifierId?: string;
  /** Provenant's version, written as builder/verifier version. */
  version?: string;
  /** Largest event stored; a bundle that would make AttestationIssued larger is not kept inline. */
  maxEventBytes?: number;
  /** Attestation ids; defaults to ULIDs. */
  newAttestationId?: () => string;
  /** The Merkle log: when given, attestations name its checkpoint and their receipts' leaves. */
  transparency?: TransparencyService;
}

export const DEFAULT_BUILDER_ID = 'https://provenant.dev/builders/provenant@v1';
export const DEFAULT_VERIFIER_ID = 'https://provenant.dev/verifiers/provenant@v1';

/** What to attest. */
export interface IssueAttestationRequest {
  kind: AttestationKind;
  /** VSA: the stage whose latest verdict is summarised. */
  stageId?: string;
  /** Test result: the test receipt. */
  receiptId?: string;
}

export interface IssueAttestationOptions {
  /** Principal who asked (recorded in the trigger). */
  requestedBy?: string;
}

/** The outcome of issuing. */
export interface IssuedAttestation {
  attestationId: string;
  unit: string;
  kind: AttestationKind;
  predicateType: string;
  eventId: string;
  position: string;
  statementDigest: string;
  bundleDigest: string;
  /** Key id of the signing key (key signing only). */
  keyId?: string;
  /** False when the bundle made the event too large and was not stored inline. */
  bundleRetained: boolean;
  /** True when this StagePassed had its VSA already: nothing was appended. */
  duplicate: boolean;
  bundle: SerializedBundle | Record<string, unknown> | undefined;
}

/** One attestation as listed for a unit (the bundle itself omitted). */
export interface AttestationSummary extends Omit<AttestationIssuedData, 'bundle'> {
  bundleRetained: boolean;
  eventId: string;
  position: string;
  recordedAt: string;
}

/** One stored attestation, its bundle included when retained. */
export interface StoredAttestation extends AttestationSummary {
  bundle?: Record<string, unknown>;
}
