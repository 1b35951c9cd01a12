// Loads the current gate and stage definitions from the log: the `gate-` and
// `stage-` streams read through `$all` with a stream-prefix filter, folded with the
// gate and stage deciders' `evolve`. Read models (DESIGN.md §5) may replace this
// later; the log stays the source of truth.
//
// Cost: every load reads the head of `$all` first and scans only what lies between
// the position already scanned and that head, so a load with nothing new is one
// cheap head read, whatever the size of the log. Each gate version's schema is
// compiled once.
//
// Freshness: a load sees every definition appended (by any process) before it
// started. A caller may accept a snapshot checked up to `maxStalenessMs` ago, which
// skips even the head read, or one that has scanned up to a position the caller
// read itself (`upTo`: exact for that position); definition commands of this process call `invalidate()`
// so that this process always sees its own changes at once. A receipt evaluated
// under a definition a few milliseconds old is still exact history: every verdict
// event names the gate and stage versions it was computed from (DESIGN.md §1), and
// `evaluateUnit` re-evaluates under the current ones.
import {
  compileCustomSchema,
  refusingValidator,
  type CustomValidator,
} from '../domain/customSchema.js';
import { isProvenantError } from '../errors.js';
import { buildDefinitions, type Definitions } from '../domain/definitions.js';
import {
  isGateEvent,
  isStageEvent,
  type DomainEvent,
  type GateDefinedData,
} from '../domain/events.js';
import { evolveGate, initialGateState, type GateState } from '../domain/gate.js';
import { GATE_STREAM_PREFIX, STAGE_STREAM_PREFIX } from '../domain/names.js';
import { evolveStage, initialStageState, type StageState } from '../domain/stage.js';
import type { EventStore } from '../eventStore/types.js';

/** Page size of definition reads. */
const PAGE = 500;

/** A snapshot of every gate and stage, folded from the log up to `position`. */
export interface DefinitionsSnapshot {
  /** `$all` position up to which the log was scanned for definitions (0n: empty log). */
  position: bigint;
  gates: ReadonlyMap<string, GateState>;
  stages: ReadonlyMap<string, StageState>;
  definitions: Definitions;
}

/** How fresh a load must be. */
export interface LoadDefinitionsOptions {
  /**
   * Accept the last snapshot when it was checked against the log at most this many
   * milliseconds ago (and no `invalidate()` came since). Default 0: always check.
   */
  maxStalenessMs?: number;
  /**
   * Accept the last snapshot when it has scanned the log at least up to this
   * position: a caller that read the head itself needs nothing newer (it skips
   * the head read). A later position checks the log as usual.
   */
  upTo?: bigint;
}

/** Reads and caches definitions; one per store. */
export interface DefinitionsStore {
  /** The definitions as of now (reads only what is new since the last check). */
  load(options?: LoadDefinitionsOptions): Promise<DefinitionsSnapshot>;
  /** Forces the next load to check the log (this process changed a definition). */
  invalidate(): void;
}

/** Options of `createDefinitionsStore`. */
export interface DefinitionsStoreOptions {
  /** Monotonic milliseconds; defaults to `performance.now()`. */
  now?: () => number;
}

/**
 * A definitions store over `store`. Checks against the log run one after another
 * (a check that starts after an append always sees it); loads that arrive while a
 * check is queued share that queued check.
 */
export function createDefinitionsStore(
  store: EventStore,
  { now = () => performance.now() }: DefinitionsStoreOptions = {},
): DefinitionsStore {
  const gates = new Map<string, GateState>();
  const stages = new Map<string, StageState>();
  const compiled = new Map<string, CustomValidator | undefined>();
  /** Every definition event at or before this position has been folded. */
  let scanned = 0n;
  let snapshot: DefinitionsSnapshot | undefined;
  /** Definitions were folded since the snapshot was built. */
  let dirty = true;
  /** When the snapshot was last known current (`now()` taken before the head read). */
  let checkedAt = Number.NEGATIVE_INFINITY;
  /** Bumped by `invalidate()`: a check that started before it does not count as fresh. */
  let generation = 0;
  /** The last check queued (checks run one after another). */
  let tail: Promise<unknown> = Promise.resolve();
  /** A check queued but not started yet: later loads share it. */
  let waiting: { result: Promise<DefinitionsSnapshot> } | undefined;

  // A schema stored before unsafe patterns were refused never runs its pattern:
  // its receipts' custom sections fail, naming why.
  const compileStored = (schema: Record<string, unknown>): CustomValidator => {
    try {
      return compileCustomSchema(schema);
    } catch (error) {
      if (isProvenantError(error) && error.code === 'DOMAIN_UNSAFE_PATTERN')
        return refusingValidator(error.message);
      throw error;
    }
  };
  const compile = (definition: GateDefinedData): CustomValidator | undefined => {
    const key = `${definition.gateId}@${definition.version}`;
    if (!compiled.has(key))
      compiled.set(
        key,
        definition.customSchema === undefined ? undefined : compileStored(definition.customSchema),
      );
    return compiled.get(key);
  };

  async function check(): Promise<DefinitionsSnapshot> {
    const startedAt = now();
    const startedIn = generation;
    // Every event up to the head is visible once the head is (appends commit in
    // position order), so scanning up to it misses nothing.
    const head = await store.headPosition();
    if (head > scanned) {
      for (;;) {
        const page = await store.readAll({
          from: scanned === 0n ? 'start' : scanned,
          maxCount: PAGE,
          filter: { streamPrefix: [GATE_STREAM_PREFIX, STAGE_STREAM_PREFIX] },
        });
        for (const recorded of page) {
          const event: DomainEvent = { type: recorded.type, data: recorded.data };
          if (isGateEvent(event)) {
            const id = event.data.gateId;
            gates.set(id, evolveGate(gates.get(id) ?? initialGateState(), event));
            dirty = true;
          } else if (isStageEvent(event)) {
            const id = event.data.stageId;
            stages.set(id, evolveStage(stages.get(id) ?? initialStageState(), event));
            dirty = true;
          }
          scanned = recorded.position;
        }
        if (page.length < PAGE) break;
      }
      if (head > scanned) scanned = head;
    }
    if (dirty || snapshot === undefined) {
      snapshot = {
        position: scanned,
        gates: new Map(gates),
        stages: new Map(stages),
        definitions: buildDefinitions(gates.values(), stages.values(), { compile }),
      };
      dirty = false;
    } else if (snapshot.position !== scanned) snapshot = { ...snapshot, position: scanned };
    if (startedIn === generation) checkedAt = Math.max(checkedAt, startedAt);
    return snapshot;
  }

  /** Runs a check after the one in flight; loads arriving meanwhile share the queued one. */
  function scheduleCheck(): Promise<DefinitionsSnapshot> {
    if (waiting !== undefined) return waiting.result;
    const entry = {} as { result: Promise<DefinitionsSnapshot> };
    const run = (): Promise<DefinitionsSnapshot> => {
      if (waiting === entry) waiting = undefined;
      return check();
    };
    entry.result = tail.then(run, run);
    waiting = entry;
    tail = entry.result.catch(() => undefined);
    return entry.result;
  }

  return {
    load({ maxStalenessMs = 0, upTo } = {}) {
      if (snapshot !== undefined && maxStalenessMs > 0 && now() - checkedAt <= maxStalenessMs)
        return Promise.resolve(snapshot);
      if (snapshot !== undefined && upTo !== undefined && snapshot.position >= upTo)
        return Promise.resolve(snapshot);
      return scheduleCheck();
    },
    invalidate() {
      generation++;
      checkedAt = Number.NEGATIVE_INFINITY;
    },
  };
}
