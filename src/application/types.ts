// The application layer's types: what use cases take and return, and the roles
// (receipt commands, definition commands and queries, unit queries) that
// `createDomainService` composes.
import type { Definitions } from '../domain/definitions.js';
import type {
  GateDefinitionBody,
  GateVerdict,
  ReceiptRecordedData,
  StageDefinitionBody,
} from '../domain/events.js';
import type { ReceiptInput } from '../domain/receiptInput.js';
import type { EventMetadata, EventStore } from '../eventStore/types.js';

/** What the domain service needs. */
export interface DomainServiceDeps {
  eventStore: EventStore;
  /** Id of a receipt that did not come from a CloudEvent; defaults to a ULID. */
  newReceiptId?: () => string;
  /** Decide-and-append attempts on revision conflicts; defaults to 5. */
  maxAttempts?: number;
  /**
   * Unit streams whose folded state is kept in memory between receipts (LRU);
   * defaults to 10,000, 0 turns the cache off. See streamStateCache.ts.
   */
  unitCacheSize?: number;
  /** Events folded into all cached unit states together; defaults to 100,000. */
  unitCacheMaxEvents?: number;
  /**
   * How old (ms) the gate and stage definitions a receipt is evaluated under may be;
   * defaults to `DEFAULT_DEFINITIONS_MAX_STALENESS_MS`. Within that time receipts
   * reuse the last snapshot without reading the log; after it, one head read (and a
   * scan of what is new) brings them up to date. This process's own definition
   * changes apply at once; another node's within this time. Every verdict event
   * names the gate and stage versions it used, and `evaluateUnit` re-evaluates under
   * the current ones. 0 checks the log on every receipt. Management reads (gates,
   * stages, unit status, evaluate) always check.
   */
  definitionsMaxStalenessMs?: number;
}

/**
 * Default staleness bound of the definitions a receipt is evaluated under: a few
 * milliseconds, far below the time a definition change takes to reach a pipeline.
 */
export const DEFAULT_DEFINITIONS_MAX_STALENESS_MS = 5;

/** Options of a command, from the edge. */
export interface CommandOptions {
  /** Stored with the events: principal, correlation/causation ids, traceparent, CloudEvent context. */
  metadata?: EventMetadata;
}

export interface RecordReceiptOptions extends CommandOptions {
  /** Makes the append idempotent (ingest passes the CloudEvent source + id). */
  idempotencyKey?: string;
  /** "Same content" for the key; defaults to the digest of the receipt input. */
  idempotencyDigest?: string;
}

/** One receipt of `recordReceipts`. */
export interface RecordReceiptRequest {
  input: ReceiptInput;
  options?: RecordReceiptOptions;
}

/** The outcome of one receipt of `recordReceipts`: its result, or the error `recordReceipt` would have thrown. */
export type RecordReceiptsItem =
  { ok: true; result: RecordReceiptResult } | { ok: false; error: unknown };

/** A verdict change, as reported to callers. */
export interface VerdictChange {
  type: string;
  /** Store event id. */
  eventId: string;
  /** `$all` position, as a decimal string (JSON has no bigint). */
  position: string;
  gateId?: string;
  gateVersion?: number;
  stageId?: string;
  stageVersion?: number;
  verdict: GateVerdict | 'stage-passed' | 'stage-reopened';
  receiptIds: string[];
}

/** The outcome of recording (or re-delivering) a receipt. */
export interface RecordReceiptResult {
  receiptId: string;
  unit: string;
  stream: string;
  /** Store id, stream revision and `$all` position of the receipt event. */
  eventId: string;
  revision: number;
  position: string;
  /** True when the receipt was already recorded: this is the original result, nothing was appended. */
  duplicate: boolean;
  /** Verdict changes the receipt caused (for a duplicate, the original ones). */
  verdicts: VerdictChange[];
}

/** The outcome of revoking a receipt. */
export interface RevokeReceiptResult {
  receiptId: string;
  unit: string;
  eventId: string;
  position: string;
  verdicts: VerdictChange[];
}

/** The outcome of an explicit evaluation. */
export interface EvaluateUnitResult {
  unit: string;
  verdicts: VerdictChange[];
  status: UnitStatus;
}

/** A gate as the management API shows it. */
export interface GateView extends GateDefinitionBody {
  gateId: string;
  version: number;
  enabled: boolean;
  disabledReason?: string;
}

/** A stage as the management API shows it. */
export interface StageView extends StageDefinitionBody {
  stageId: string;
  version: number;
  enabled: boolean;
  prerequisites: string[];
  disabledReason?: string;
}

/** The outcome of a definition command. */
export interface DefinitionResult<View> {
  /** False when the command decided nothing (identical definition, already disabled). */
  changed: boolean;
  view: View;
}

/** A receipt in a unit's status. */
export interface ReceiptView extends ReceiptRecordedData {
  eventId: string;
  position: string;
  recordedAt: string;
  revoked?: { reason: string; revokedBy?: string };
  /** True when it is the receipt that counts for its action (latest non-revoked). */
  counted: boolean;
}

/** A gate's verdict for a unit: recorded in the log, and under the current definitions. */
export interface GateStatus {
  gateId: string;
  enabled: boolean;
  /** The last verdict recorded in the unit's stream (pending when none was). */
  recorded: { verdict: GateVerdict; gateVersion: number; receiptIds: string[] } | null;
  /** The verdict under the current definition; null for a disabled gate. */
  current: {
    verdict: GateVerdict;
    gateVersion: number;
    receiptIds: string[];
    missingActions: string[];
  } | null;
  /** False when the current verdict differs from the recorded one (run Evaluate). */
  upToDate: boolean;
}

/** A stage's verdict for a unit: recorded in the log, and under the current definitions. */
export interface StageStatus {
  stageId: string;
  enabled: boolean;
  recorded: { passed: boolean; stageVersion: number; receiptIds: string[] } | null;
  current: { passed: boolean; stageVersion: number; receiptIds: string[] } | null;
  upToDate: boolean;
}

/** A unit's status, folded from its stream. */
export interface UnitStatus {
  unit: string;
  /** The unit's canonical package URL. */
  purl?: string;
  /** Its NVRPP short form, where it has one. */
  nvrpp?: string;
  /** Revision of the unit stream that was folded. */
  revision: number;
  receipts: ReceiptView[];
  gates: GateStatus[];
  stages: StageStatus[];
}

/** Commands on receipts: recording (one or many) and revoking. */
export interface ReceiptCommands {
  /**
   * Records a receipt (and the verdict changes it causes) in its unit's stream. The
   * input's nested objects are kept by reference in the unit cache: do not change
   * them after the call.
   */
  recordReceipt(input: ReceiptInput, options?: RecordReceiptOptions): Promise<RecordReceiptResult>;
  /**
   * Records many receipts with the outcome, receipt by receipt, of calling
   * `recordReceipt` for each in order, but with one read, one decision and one
   * append per unit. Never rejects: each item carries its result or its error.
   */
  recordReceipts(requests: readonly RecordReceiptRequest[]): Promise<RecordReceiptsItem[]>;
  revokeReceipt(
    receiptId: string,
    reason: string,
    options?: CommandOptions & { revokedBy?: string },
  ): Promise<RevokeReceiptResult>;
}

/** Commands on gate and stage definitions. */
export interface DefinitionCommands {
  defineGate(
    gateId: string,
    definition: GateDefinitionBody,
    options?: CommandOptions,
  ): Promise<DefinitionResult<GateView>>;
  disableGate(
    gateId: string,
    reason?: string,
    options?: CommandOptions,
  ): Promise<DefinitionResult<GateView>>;
  defineStage(
    stageId: string,
    definition: StageDefinitionBody,
    options?: CommandOptions,
  ): Promise<DefinitionResult<StageView>>;
  disableStage(
    stageId: string,
    reason?: string,
    options?: CommandOptions,
  ): Promise<DefinitionResult<StageView>>;
}

/** Reads of the current gate and stage definitions. */
export interface DefinitionQueries {
  getGate(gateId: string): Promise<GateView>;
  listGates(): Promise<GateView[]>;
  getStage(stageId: string): Promise<StageView>;
  listStages(): Promise<StageView[]>;
  /**
   * The current definitions (what evaluation runs under now). With `upTo`, those
   * as of at least that log position (a caller that read the head passes it:
   * no second head read when nothing newer is needed).
   */
  currentDefinitions(options?: { upTo?: bigint }): Promise<Definitions>;
}

/** A unit's status, and its re-evaluation under the current definitions. */
export interface UnitQueries {
  getUnitStatus(unitKey: string): Promise<UnitStatus>;
  evaluateUnit(unitKey: string, options?: CommandOptions): Promise<EvaluateUnitResult>;
}

/** The domain's application API: every role above, as the HTTP layer and the CLI use it. */
export type DomainService = ReceiptCommands & DefinitionCommands & DefinitionQueries & UnitQueries;
