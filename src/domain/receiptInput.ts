// The shape of a receipt as it enters the domain, whatever it came from: our own
// receipt CloudEvent (`dev.provenant.receipt.v1`), a mapped CDEvent, or a JUnit
// report. Ingest produces it; the domain's RecordReceipt command consumes it.

/** A digest set as in in-toto ResourceDescriptor: algorithm -> lower-case hex. */
export type DigestSet = Record<string, string>;

/** An artifact the action produced or consumed. */
export interface ArtifactRef {
  name?: string;
  uri?: string;
  digest: DigestSet;
  mediaType?: string;
}

/** Evidence goes by reference (uri + digest), never inline. */
export interface EvidenceRef {
  uri: string;
  digest: DigestSet;
  mediaType?: string;
  name?: string;
}

/** Where a receipt came from: the CloudEvent it was recorded from. */
export interface ReceiptOrigin {
  /** CloudEvent `source`. */
  source: string;
  /** CloudEvent `id`. */
  id: string;
  /** CloudEvent `type` (our receipt type or a CDEvent type). */
  type: string;
  /** CloudEvent `time`, when given. */
  time?: string;
}

export interface ReceiptInput {
  /** Unit key, NVRPP: `name/version/release/platform/packageType`. */
  unit: string;
  /** Action name, e.g. `build`, `unit-test`, `sast`. */
  action: string;
  /** True when the action passed. */
  multipass: boolean;
  /** Results summary (counts, scores...), free-form JSON object. */
  results?: Record<string, unknown>;
  /** Custom section, validated against the gate's schema when it has one. */
  custom?: Record<string, unknown>;
  artifacts?: ArtifactRef[];
  evidence?: EvidenceRef[];
  /** Who produced the receipt (pipeline, tool); defaults to the CloudEvent source. */
  producer?: string;
  correlationId?: string;
  startedAt?: string;
  finishedAt?: string;
  origin?: ReceiptOrigin;
}
