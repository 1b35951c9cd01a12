// Application services of the domain (issue 4): command handlers that use the
// event-store port, and queries that fold the log. HTTP routes and the CLI call
// these; they hold no state of their own beyond a definitions cache.
//
// Receipts: all domain events decided for one receipt (the receipt and its verdict
// changes) go to the unit's stream in ONE append with the exact expected revision.
// Queries compute status by folding the log until read models arrive (DESIGN.md §5).
import { ProvenantError } from '../errors.js';
import type { Definitions } from '../domain/definitions.js';
import { countedReceipts } from '../domain/evaluation.js';
import {
  EventTypes,
  isGateEvent,
  isStageEvent,
  isUnitEvent,
  type DomainEvent,
  type GateDefinitionBody,
  type GateEvent,
  type GateVerdict,
  type GateVerdictData,
  type ReceiptRecordedData,
  type StageDefinitionBody,
  type StageEvent,
  type StageVerdictData,
  type UnitEvent,
  type VerdictTrigger,
} from '../domain/events.js';
import { decideGate, evolveGate, initialGateState, type GateState } from '../domain/gate.js';
import {
  assertGateId,
  assertStageId,
  gateStreamName,
  isReceiptId,
  stageStreamName,
} from '../domain/names.js';
import type { ReceiptInput } from '../domain/receiptInput.js';
import { decideStage, evolveStage, initialStageState, type StageState } from '../domain/stage.js';
import { stageCatalogOf } from '../domain/definitions.js';
import {
  decideUnit,
  evaluateUnitState,
  evaluatedReceipts,
  evolveUnit,
  initialUnitState,
  type UnitState,
} from '../domain/unit.js';
import { normalizeUnitKey, unitStreamName } from '../domain/unitKey.js';
import { NO_STREAM, isRevisionConflictError } from '../eventStore/expectedRevision.js';
import type {
  AppendResult,
  AppendedEvent,
  EventMetadata,
  EventStore,
  EventToAppend,
  RecordedEvent,
} from '../eventStore/types.js';
import {
  DEFAULT_MAX_ATTEMPTS,
  handleCommand,
  loadCachedStream,
  loadStream,
  rememberAppend,
  type LoadedStream,
  type StreamFold,
} from './commandHandler.js';
import { createDefinitionsStore, type DefinitionsStore } from './definitionsStore.js';
import { canonicalDigest, newReceiptId, receiptIdFromCloudEvent } from './receiptIds.js';
import { createStreamLocks } from './streamLocks.js';
import { createStreamStateCache } from './streamStateCache.js';

/** What the domain service needs. */
export interface DomainServiceDeps {
  eventStore: EventStore;
  /** Id of a receipt that did not come from a CloudEvent; defaults to a ULID. */
  newReceiptId?: () => string;
  /** Decide-and-append attempts on revision conflicts; defaults to 5. */
  maxAttempts?: number;
  /** Page size of the `$all` scan that finds a receipt's unit; defaults to 1000. */
  scanPageSize?: number;
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
  /** Revision of the unit stream that was folded. */
  revision: number;
  receipts: ReceiptView[];
  gates: GateStatus[];
  stages: StageStatus[];
}

/** The domain's application API. */
export interface DomainService {
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
  evaluateUnit(unitKey: string, options?: CommandOptions): Promise<EvaluateUnitResult>;
  getGate(gateId: string): Promise<GateView>;
  listGates(): Promise<GateView[]>;
  getStage(stageId: string): Promise<StageView>;
  listStages(): Promise<StageView[]>;
  getUnitStatus(unitKey: string): Promise<UnitStatus>;
  /** The current definitions (what evaluation runs under now). */
  currentDefinitions(): Promise<Definitions>;
}

const asDomainEvent = (recorded: RecordedEvent): DomainEvent => ({
  type: recorded.type,
  data: recorded.data,
});

const unitFold: StreamFold<UnitState, UnitEvent> = {
  evolve: evolveUnit,
  initialState: initialUnitState,
  fromRecorded: (recorded) => {
    const event = asDomainEvent(recorded);
    return isUnitEvent(event) ? event : undefined;
  },
};
const gateFold: StreamFold<GateState, GateEvent> = {
  evolve: evolveGate,
  initialState: initialGateState,
  fromRecorded: (recorded) => {
    const event = asDomainEvent(recorded);
    return isGateEvent(event) ? event : undefined;
  },
};
const stageFold: StreamFold<StageState, StageEvent> = {
  evolve: evolveStage,
  initialState: initialStageState,
  fromRecorded: (recorded) => {
    const event = asDomainEvent(recorded);
    return isStageEvent(event) ? event : undefined;
  },
};

const VERDICT_TYPES: ReadonlySet<string> = new Set([
  EventTypes.GatePassed,
  EventTypes.GateFailed,
  EventTypes.GateReopened,
  EventTypes.StagePassed,
  EventTypes.StageReopened,
]);

function verdictChange(
  event: { type: string; data: unknown },
  id: string,
  position: bigint,
): VerdictChange {
  if (event.type === EventTypes.StagePassed || event.type === EventTypes.StageReopened) {
    const data = event.data as StageVerdictData;
    return {
      type: event.type,
      eventId: id,
      position: position.toString(),
      stageId: data.stageId,
      stageVersion: data.stageVersion,
      verdict: data.passed ? 'stage-passed' : 'stage-reopened',
      receiptIds: data.receiptIds,
    };
  }
  const data = event.data as GateVerdictData;
  return {
    type: event.type,
    eventId: id,
    position: position.toString(),
    gateId: data.gateId,
    gateVersion: data.gateVersion,
    verdict: data.verdict,
    receiptIds: data.receiptIds,
  };
}

const sameTrigger = (a: VerdictTrigger, b: VerdictTrigger): boolean =>
  a.kind === b.kind &&
  ('receiptId' in a ? a.receiptId : '') === ('receiptId' in b ? b.receiptId : '');

/** The verdict events that directly follow `index` in `recorded` and carry `trigger`. */
function followingVerdicts(
  recorded: readonly RecordedEvent[],
  index: number,
  trigger: VerdictTrigger,
): VerdictChange[] {
  const out: VerdictChange[] = [];
  for (const event of recorded.slice(index + 1)) {
    if (!VERDICT_TYPES.has(event.type)) break;
    if (!sameTrigger((event.data as { trigger: VerdictTrigger }).trigger, trigger)) break;
    out.push(verdictChange(event, event.id, event.position));
  }
  return out;
}

/** While a gate or stage is disabled, why (when a reason was given). */
const disabledReasonOf = (state: GateState | StageState): { disabledReason?: string } =>
  !state.enabled && state.disabledReason !== undefined
    ? { disabledReason: state.disabledReason }
    : {};

const gateView = (state: GateState): GateView => {
  const {
    gateId: _g,
    version: _v,
    ...body
  } = state.definition as NonNullable<GateState['definition']>;
  return {
    gateId: state.gateId as string,
    version: state.version,
    enabled: state.enabled,
    ...body,
    ...disabledReasonOf(state),
  };
};

const stageView = (state: StageState): StageView => {
  const {
    stageId: _s,
    version: _v,
    ...body
  } = state.definition as NonNullable<StageState['definition']>;
  return {
    stageId: state.stageId as string,
    version: state.version,
    enabled: state.enabled,
    ...body,
    ...disabledReasonOf(state),
  };
};

/** Builds the domain service over an event store. */
export function createDomainService(deps: DomainServiceDeps): DomainService {
  const store = deps.eventStore;
  const definitions: DefinitionsStore = createDefinitionsStore(store);
  /** How receipts load definitions (the hot path may accept a slightly old snapshot). */
  const receiptDefinitions = {
    maxStalenessMs: deps.definitionsMaxStalenessMs ?? DEFAULT_DEFINITIONS_MAX_STALENESS_MS,
  };
  const makeReceiptId = deps.newReceiptId ?? newReceiptId;
  const maxAttempts = deps.maxAttempts;
  const scanPageSize = deps.scanPageSize ?? 1000;
  const locks = createStreamLocks();
  const unitCache = createStreamStateCache<UnitState>({
    ...(deps.unitCacheSize === undefined ? {} : { maxStreams: deps.unitCacheSize }),
    ...(deps.unitCacheMaxEvents === undefined ? {} : { maxEvents: deps.unitCacheMaxEvents }),
  });
  /** `handleCommand`, one command per stream at a time within this process. */
  const handle: typeof handleCommand = (eventStore, stream, fold, decide, options) =>
    locks.run(stream, () => handleCommand(eventStore, stream, fold, decide, options));

  /** Metadata for derived (verdict) events: who and why, but not the CloudEvent context. */
  const derivedMetadata = (metadata: EventMetadata | undefined): EventMetadata | undefined => {
    if (metadata === undefined) return undefined;
    const { context: _context, ...rest } = metadata;
    return rest;
  };

  const withMetadata =
    (metadata: EventMetadata | undefined, first: Partial<EventToAppend> = {}) =>
    (events: readonly DomainEvent[]): EventToAppend[] =>
      events.map((event, index) => {
        const meta = index === 0 ? metadata : derivedMetadata(metadata);
        return {
          type: event.type,
          data: event.data,
          ...(meta === undefined ? {} : { metadata: meta }),
          ...(index === 0 ? first : {}),
        };
      });

  /** The options every handler passes to `handle`: metadata on the appended events, retry bound. */
  const handleOptions = (options: CommandOptions) => ({
    toAppend: withMetadata(options.metadata),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });

  /**
   * Options of unit commands that must decide on exactly what is stored (revoke,
   * evaluate): they read the log, and leave the unit cache up to date.
   */
  const exactUnitOptions = (options: CommandOptions) => ({
    ...handleOptions(options),
    cache: unitCache,
    readFromCache: false,
  });

  /** Definition commands: this process sees its own changes at once. */
  const changingDefinitions = async <T>(command: Promise<T>): Promise<T> => {
    try {
      return await command;
    } finally {
      definitions.invalidate();
    }
  };

  /** The original result of a receipt found in `events`, the stream's stored events. */
  function originalResultIn(
    events: readonly RecordedEvent[],
    stream: string,
    receiptId: string,
  ): RecordReceiptResult {
    const index = events.findIndex(
      (e) =>
        e.type === EventTypes.ReceiptRecorded &&
        (e.data as ReceiptRecordedData).receiptId === receiptId,
    );
    const event = events[index];
    if (event === undefined)
      throw new ProvenantError(
        'INTERNAL',
        `Receipt '${receiptId}' was reported stored but is not in '${stream}'`,
      );
    const data = event.data as ReceiptRecordedData;
    return {
      receiptId,
      unit: data.unit,
      stream,
      eventId: event.id,
      revision: event.revision,
      position: event.position.toString(),
      duplicate: true,
      verdicts: followingVerdicts(events, index, { kind: 'receipt-recorded', receiptId }),
    };
  }

  /** The original result of a receipt already in `stream`. */
  async function originalReceiptResult(
    stream: string,
    receiptId: string,
  ): Promise<RecordReceiptResult> {
    const { events } = await store.readStream(stream);
    return originalResultIn(events, stream, receiptId);
  }

  /** A receipt command with everything chosen once, before any attempt: stream, id, metadata, key. */
  interface PreparedReceipt {
    input: ReceiptInput;
    stream: string;
    receiptId: string;
    metadata: EventMetadata | undefined;
    keyed: Partial<EventToAppend>;
    idempotencyKey: string | undefined;
  }

  function prepareReceipt(input: ReceiptInput, options: RecordReceiptOptions): PreparedReceipt {
    const stream = unitStreamName(String(input?.unit));
    const receiptId =
      input.origin !== undefined
        ? receiptIdFromCloudEvent(String(input.origin.source), String(input.origin.id))
        : makeReceiptId();
    const metadata: EventMetadata | undefined =
      options.metadata === undefined && input.correlationId === undefined
        ? undefined
        : {
            ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
            ...options.metadata,
          };
    const keyed: Partial<EventToAppend> =
      options.idempotencyKey === undefined
        ? {}
        : {
            idempotencyKey: options.idempotencyKey,
            idempotencyDigest: options.idempotencyDigest ?? canonicalDigest({ receipt: input }),
          };
    return { input, stream, receiptId, metadata, keyed, idempotencyKey: options.idempotencyKey };
  }

  /** The result of a receipt appended as `events` (receipt first, then verdicts) at `appended`. */
  const appendedResult = (
    stream: string,
    receiptId: string,
    events: readonly UnitEvent[],
    appended: readonly AppendedEvent[],
  ): RecordReceiptResult => {
    const [receiptEvent, ...verdictEvents] = appended;
    return {
      receiptId,
      unit: (events[0]?.data as ReceiptRecordedData).unit,
      stream,
      eventId: receiptEvent?.id ?? '',
      revision: receiptEvent?.revision ?? -1,
      position: (receiptEvent?.position ?? 0n).toString(),
      duplicate: false,
      verdicts: verdictEvents.map((a, i) =>
        verdictChange(events[i + 1] as DomainEvent, a.id, a.position),
      ),
    };
  };

  /** Records one prepared receipt; the caller holds the stream's lock. */
  async function recordPrepared(receipt: PreparedReceipt): Promise<RecordReceiptResult> {
    const { stream, receiptId } = receipt;
    const result = await handleCommand(
      store,
      stream,
      unitFold,
      async (state) => {
        const { definitions: defs } = await definitions.load(receiptDefinitions);
        return decideUnit(
          { type: 'RecordReceipt', receiptId, receipt: receipt.input, definitions: defs },
          state,
        );
      },
      {
        toAppend: withMetadata(receipt.metadata, receipt.keyed),
        cache: unitCache,
        ...(maxAttempts === undefined ? {} : { maxAttempts }),
      },
    );
    const append = result.appendResult;
    if (append === undefined) return originalReceiptResult(stream, receiptId); // same receipt id, same content
    if (append.duplicate) {
      // The idempotency key was stored before: report the original receipt.
      const original = append.events[0];
      const { events } = await store.readStream(stream, {
        from: original?.revision ?? 0,
        maxCount: 1,
      });
      const data = events[0]?.data as ReceiptRecordedData | undefined;
      if (data === undefined || events[0]?.type !== EventTypes.ReceiptRecorded)
        throw new ProvenantError(
          'INTERNAL',
          `Idempotency key '${receipt.idempotencyKey}' does not name a receipt`,
        );
      return originalReceiptResult(stream, data.receiptId);
    }
    return appendedResult(stream, receiptId, result.events, append.events);
  }

  async function recordReceipt(
    input: ReceiptInput,
    options: RecordReceiptOptions = {},
  ): Promise<RecordReceiptResult> {
    const receipt = prepareReceipt(input, options);
    return locks.run(receipt.stream, () => recordPrepared(receipt));
  }

  const settle = async (work: () => Promise<RecordReceiptResult>): Promise<RecordReceiptsItem> => {
    try {
      return { ok: true, result: await work() };
    } catch (error) {
      return { ok: false, error };
    }
  };

  /** What the grouped decision made of one receipt. */
  type GroupPlan =
    | { kind: 'failed'; error: unknown }
    /** Already recorded with the same content (before, or earlier in the group). */
    | { kind: 'recorded-before'; receiptId: string }
    /** Appended as `events`, starting at index `first` of the group's append. */
    | { kind: 'append'; receiptId: string; first: number; events: UnitEvent[] };

  /**
   * Records the receipts of one unit stream (the caller holds its lock): one load,
   * each receipt decided on the state the previous ones left, one append. When the
   * store refuses the grouped append for any reason but a revision conflict (an
   * idempotency key stored before, a conflict, a limit), or two receipts share an
   * idempotency key, the receipts are recorded one by one instead, which gives each
   * its own outcome. Never rejects.
   */
  async function recordGroup(
    stream: string,
    receipts: readonly PreparedReceipt[],
  ): Promise<RecordReceiptsItem[]> {
    const [only] = receipts;
    if (only !== undefined && receipts.length === 1)
      return [await settle(() => recordPrepared(only))];
    const attempts = maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let loaded: LoadedStream<UnitState>;
      let defs: Definitions;
      try {
        loaded = await loadCachedStream(store, stream, unitFold, unitCache);
        defs = (await definitions.load(receiptDefinitions)).definitions;
      } catch (error) {
        return receipts.map(() => ({ ok: false, error }));
      }
      let state = loaded.state;
      const plans: GroupPlan[] = [];
      const decided: UnitEvent[] = [];
      const toAppend: EventToAppend[] = [];
      const keys = new Set<string>();
      let sharedKey = false;
      for (const receipt of receipts) {
        let events: UnitEvent[];
        try {
          events = decideUnit(
            {
              type: 'RecordReceipt',
              receiptId: receipt.receiptId,
              receipt: receipt.input,
              definitions: defs,
            },
            state,
          );
        } catch (error) {
          plans.push({ kind: 'failed', error });
          continue;
        }
        if (events.length === 0) {
          plans.push({ kind: 'recorded-before', receiptId: receipt.receiptId });
          continue;
        }
        if (receipt.idempotencyKey !== undefined) {
          if (keys.has(receipt.idempotencyKey)) sharedKey = true;
          keys.add(receipt.idempotencyKey);
        }
        plans.push({
          kind: 'append',
          receiptId: receipt.receiptId,
          first: decided.length,
          events,
        });
        decided.push(...events);
        toAppend.push(...withMetadata(receipt.metadata, receipt.keyed)(events));
        state = events.reduce(evolveUnit, state);
      }
      if (sharedKey) break;
      let appended: AppendResult | undefined;
      if (toAppend.length > 0) {
        try {
          appended = await store.append(stream, toAppend, {
            expectedRevision:
              loaded.currentRevision === NO_STREAM ? NO_STREAM : loaded.currentRevision,
          });
        } catch (error) {
          unitCache.delete(stream);
          if (isRevisionConflictError(error)) continue;
          break;
        }
        if (appended.duplicate) {
          unitCache.delete(stream);
          break;
        }
        rememberAppend(unitCache, stream, unitFold, loaded, decided, appended);
      }
      return resolveGroup(stream, plans, appended);
    }
    const results: RecordReceiptsItem[] = [];
    for (const receipt of receipts) results.push(await settle(() => recordPrepared(receipt)));
    return results;
  }

  /** The per-receipt outcomes of a grouped decision, once its append (if any) is done. */
  async function resolveGroup(
    stream: string,
    plans: readonly GroupPlan[],
    appended: AppendResult | undefined,
  ): Promise<RecordReceiptsItem[]> {
    const inGroup = new Map<string, RecordReceiptResult>();
    let stored: readonly RecordedEvent[] | undefined;
    const results: RecordReceiptsItem[] = [];
    for (const plan of plans) {
      if (plan.kind === 'failed') {
        results.push({ ok: false, error: plan.error });
        continue;
      }
      if (plan.kind === 'append') {
        const events = appended?.events.slice(plan.first, plan.first + plan.events.length) ?? [];
        const result = appendedResult(stream, plan.receiptId, plan.events, events);
        inGroup.set(plan.receiptId, result);
        results.push({ ok: true, result });
        continue;
      }
      const earlier = inGroup.get(plan.receiptId);
      if (earlier !== undefined) {
        results.push({ ok: true, result: { ...earlier, duplicate: true } });
        continue;
      }
      try {
        stored ??= (await store.readStream(stream)).events;
        results.push({ ok: true, result: originalResultIn(stored, stream, plan.receiptId) });
      } catch (error) {
        results.push({ ok: false, error });
      }
    }
    return results;
  }

  async function recordReceipts(
    requests: readonly RecordReceiptRequest[],
  ): Promise<RecordReceiptsItem[]> {
    const outcomes: RecordReceiptsItem[] = new Array<RecordReceiptsItem>(requests.length);
    const groups = new Map<string, { index: number; receipt: PreparedReceipt }[]>();
    requests.forEach((request, index) => {
      try {
        const receipt = prepareReceipt(request.input, request.options ?? {});
        const group = groups.get(receipt.stream);
        if (group === undefined) groups.set(receipt.stream, [{ index, receipt }]);
        else group.push({ index, receipt });
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    });
    await Promise.all(
      [...groups].map(async ([stream, group]) => {
        let results: RecordReceiptsItem[];
        try {
          results = await locks.run(stream, () =>
            recordGroup(
              stream,
              group.map((g) => g.receipt),
            ),
          );
        } catch (error) {
          results = group.map(() => ({ ok: false, error }));
        }
        group.forEach((g, i) => {
          outcomes[g.index] = results[i] ?? { ok: false, error: new Error('no outcome') };
        });
      }),
    );
    return outcomes;
  }

  /**
   * Finds the unit of a receipt by scanning `$all` for receipt events. Read models
   * (the receipts ledger, DESIGN.md §5) will replace this scan.
   */
  async function findReceiptUnit(receiptId: string): Promise<string | undefined> {
    let from: bigint | 'start' = 'start';
    for (;;) {
      const page = await store.readAll({
        from,
        maxCount: scanPageSize,
        filter: { eventTypePrefix: ['ReceiptRecorded.'] },
      });
      for (const event of page) {
        const data = event.data as Partial<ReceiptRecordedData>;
        if (data.receiptId === receiptId && typeof data.unit === 'string') return data.unit;
      }
      const last = page.at(-1);
      if (last === undefined || page.length < scanPageSize) return undefined;
      from = last.position;
    }
  }

  const notFound = (receiptId: string): ProvenantError =>
    new ProvenantError('DOMAIN_RECEIPT_NOT_FOUND', `Receipt '${receiptId}' does not exist`, {
      details: { receiptId },
    });

  async function revokeReceipt(
    receiptId: string,
    reason: string,
    options: CommandOptions & { revokedBy?: string } = {},
  ): Promise<RevokeReceiptResult> {
    if (!isReceiptId(receiptId)) throw notFound(String(receiptId));
    const unit = await findReceiptUnit(receiptId);
    if (unit === undefined) throw notFound(receiptId);
    const stream = unitStreamName(unit);
    const revokedBy = options.revokedBy ?? options.metadata?.principal;
    const result = await handle(
      store,
      stream,
      unitFold,
      async (state) => {
        const { definitions: defs } = await definitions.load();
        return decideUnit(
          {
            type: 'RevokeReceipt',
            receiptId,
            reason,
            definitions: defs,
            ...(revokedBy === undefined ? {} : { revokedBy }),
          },
          state,
        );
      },
      exactUnitOptions(options),
    );
    const appended = result.appendResult?.events ?? [];
    const [revocation, ...verdictEvents] = appended;
    return {
      receiptId,
      unit,
      eventId: revocation?.id ?? '',
      position: (revocation?.position ?? 0n).toString(),
      verdicts: verdictEvents.map((a, i) =>
        verdictChange(result.events[i + 1] as DomainEvent, a.id, a.position),
      ),
    };
  }

  /** Runs one command on a gate's or stage's stream and reports whether it changed anything. */
  async function definitionCommand<State, Event extends DomainEvent, View>(
    stream: string,
    fold: StreamFold<State, Event>,
    view: (state: State) => View,
    decide: (state: State) => Event[] | Promise<Event[]>,
    options: CommandOptions,
  ): Promise<DefinitionResult<View>> {
    const result = await changingDefinitions(
      handle(store, stream, fold, decide, handleOptions(options)),
    );
    return { changed: result.events.length > 0, view: view(result.newState) };
  }

  const gateCommand = (
    gateId: string,
    decide: (state: GateState) => GateEvent[] | Promise<GateEvent[]>,
    options: CommandOptions,
  ): Promise<DefinitionResult<GateView>> =>
    definitionCommand(gateStreamName(gateId), gateFold, gateView, decide, options);

  const stageCommand = (
    stageId: string,
    decide: (state: StageState) => StageEvent[] | Promise<StageEvent[]>,
    options: CommandOptions,
  ): Promise<DefinitionResult<StageView>> =>
    definitionCommand(stageStreamName(stageId), stageFold, stageView, decide, options);

  const defineGate = (
    gateId: string,
    definition: GateDefinitionBody,
    options: CommandOptions = {},
  ): Promise<DefinitionResult<GateView>> =>
    gateCommand(
      gateId,
      (state) => decideGate({ type: 'DefineGate', gateId, definition }, state),
      options,
    );

  const disableGate = (
    gateId: string,
    reason?: string,
    options: CommandOptions = {},
  ): Promise<DefinitionResult<GateView>> =>
    gateCommand(
      gateId,
      (state) =>
        decideGate(
          { type: 'DisableGate', gateId, ...(reason === undefined ? {} : { reason }) },
          state,
        ),
      options,
    );

  const defineStage = (
    stageId: string,
    definition: StageDefinitionBody,
    options: CommandOptions = {},
  ): Promise<DefinitionResult<StageView>> =>
    stageCommand(
      stageId,
      async (state) => {
        const { definitions: defs } = await definitions.load();
        return decideStage(
          { type: 'DefineStage', stageId, definition, catalog: stageCatalogOf(defs) },
          state,
        );
      },
      options,
    );

  const disableStage = (
    stageId: string,
    reason?: string,
    options: CommandOptions = {},
  ): Promise<DefinitionResult<StageView>> =>
    stageCommand(
      stageId,
      (state) =>
        decideStage(
          { type: 'DisableStage', stageId, ...(reason === undefined ? {} : { reason }) },
          state,
        ),
      options,
    );

  async function evaluateUnit(
    unitKey: string,
    options: CommandOptions = {},
  ): Promise<EvaluateUnitResult> {
    const unit = normalizeUnitKey(unitKey);
    const result = await handle(
      store,
      unitStreamName(unit),
      unitFold,
      async (state) => {
        const { definitions: defs } = await definitions.load();
        return decideUnit({ type: 'Evaluate', definitions: defs }, state);
      },
      exactUnitOptions(options),
    );
    const verdicts = (result.appendResult?.events ?? []).map((a, i) =>
      verdictChange(result.events[i] as DomainEvent, a.id, a.position),
    );
    return { unit, verdicts, status: await getUnitStatus(unit) };
  }

  async function getGate(gateId: string): Promise<GateView> {
    const id = assertGateId(gateId);
    const state = (await definitions.load()).gates.get(id);
    if (state === undefined)
      throw new ProvenantError('DOMAIN_GATE_NOT_FOUND', `Gate '${id}' is not defined`, {
        details: { gateId: id },
      });
    return gateView(state);
  }

  async function getStage(stageId: string): Promise<StageView> {
    const id = assertStageId(stageId);
    const state = (await definitions.load()).stages.get(id);
    if (state === undefined)
      throw new ProvenantError('DOMAIN_STAGE_NOT_FOUND', `Stage '${id}' is not defined`, {
        details: { stageId: id },
      });
    return stageView(state);
  }

  const byId =
    <T>(id: (v: T) => string) =>
    (a: T, b: T): number =>
      id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0;

  async function listGates(): Promise<GateView[]> {
    const { gates } = await definitions.load();
    return [...gates.values()].map(gateView).sort(byId((g) => g.gateId));
  }

  async function listStages(): Promise<StageView[]> {
    const { stages } = await definitions.load();
    return [...stages.values()].map(stageView).sort(byId((s) => s.stageId));
  }

  async function getUnitStatus(unitKey: string): Promise<UnitStatus> {
    const unit = normalizeUnitKey(unitKey);
    const loaded = await loadStream(store, unitStreamName(unit), unitFold);
    if (loaded.currentRevision === 'no_stream')
      throw new ProvenantError('DOMAIN_UNIT_NOT_FOUND', `Unit '${unit}' has no receipts`, {
        details: { unit },
      });
    const { state } = loaded;
    const { definitions: defs } = await definitions.load();
    const evaluation = evaluateUnitState(state, defs);
    const counted = new Set(
      [...countedReceipts(evaluatedReceipts(state.receipts)).values()].map((r) => r.receiptId),
    );
    const receipts: ReceiptView[] = loaded.recorded
      .filter((e) => e.type === EventTypes.ReceiptRecorded)
      .map((e) => {
        const data = e.data as ReceiptRecordedData;
        const revoked = state.receipts.get(data.receiptId)?.revoked;
        return {
          ...data,
          eventId: e.id,
          position: e.position.toString(),
          recordedAt: e.recordedAt,
          ...(revoked === undefined ? {} : { revoked }),
          counted: counted.has(data.receiptId),
        };
      });
    const gateIds = [...new Set([...defs.gates.keys(), ...state.gateVerdicts.keys()])].sort();
    const gates: GateStatus[] = gateIds.map((gateId) => {
      const recorded = state.gateVerdicts.get(gateId);
      const current = evaluation.gates.get(gateId);
      const recordedVerdict = recorded?.verdict ?? 'pending';
      return {
        gateId,
        enabled: defs.gates.get(gateId)?.enabled ?? false,
        recorded: recorded
          ? {
              verdict: recorded.verdict,
              gateVersion: recorded.gateVersion,
              receiptIds: recorded.receiptIds,
            }
          : null,
        current: current
          ? {
              verdict: current.verdict,
              gateVersion: current.gateVersion,
              receiptIds: current.receiptIds,
              missingActions: current.missingActions,
            }
          : null,
        upToDate: current === undefined || current.verdict === recordedVerdict,
      };
    });
    const stageIds = [...new Set([...defs.stages.keys(), ...state.stageVerdicts.keys()])].sort();
    const stages: StageStatus[] = stageIds.map((stageId) => {
      const recorded = state.stageVerdicts.get(stageId);
      const current = evaluation.stages.get(stageId);
      return {
        stageId,
        enabled: defs.stages.get(stageId)?.enabled ?? false,
        recorded: recorded
          ? {
              passed: recorded.passed,
              stageVersion: recorded.stageVersion,
              receiptIds: recorded.receiptIds,
            }
          : null,
        current: current
          ? {
              passed: current.passed,
              stageVersion: current.stageVersion,
              receiptIds: current.receiptIds,
            }
          : null,
        upToDate: current === undefined || current.passed === (recorded?.passed ?? false),
      };
    });
    return { unit, revision: loaded.currentRevision, receipts, gates, stages };
  }

  return {
    recordReceipt,
    recordReceipts,
    revokeReceipt,
    defineGate,
    disableGate,
    defineStage,
    disableStage,
    evaluateUnit,
    getGate,
    listGates,
    getStage,
    listStages,
    getUnitStatus,
    currentDefinitions: async () => (await definitions.load()).definitions,
  };
}
