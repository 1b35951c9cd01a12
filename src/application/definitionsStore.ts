// Loads the current gate and stage definitions from the log: the `gate-` and
// `stage-` streams read through `$all` with a stream-prefix filter, folded with the
// gate and stage deciders' `evolve`. Cached: each load reads only what was appended
// since the last one, and each gate version's schema is compiled once. Read models
// (DESIGN.md §5) may replace this later; the log stays the source of truth.
import { compileCustomSchema, type CustomValidator } from '../domain/customSchema.js';
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
  /** `$all` position of the last definition event folded (0n: none). */
  position: bigint;
  gates: ReadonlyMap<string, GateState>;
  stages: ReadonlyMap<string, StageState>;
  definitions: Definitions;
}

/** Reads and caches definitions; one per store. */
export interface DefinitionsStore {
  /** The definitions as of now (reads what is new since the last call). */
  load(): Promise<DefinitionsSnapshot>;
}

/**
 * A definitions store over `store`. Loads run one after another, so a load that
 * starts after an append always sees it.
 */
export function createDefinitionsStore(store: EventStore): DefinitionsStore {
  const gates = new Map<string, GateState>();
  const stages = new Map<string, StageState>();
  const compiled = new Map<string, CustomValidator | undefined>();
  let position = 0n;
  let snapshot: DefinitionsSnapshot | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const compile = (definition: GateDefinedData): CustomValidator | undefined => {
    const key = `${definition.gateId}@${definition.version}`;
    if (!compiled.has(key))
      compiled.set(
        key,
        definition.customSchema === undefined
          ? undefined
          : compileCustomSchema(definition.customSchema),
      );
    return compiled.get(key);
  };

  async function refresh(): Promise<DefinitionsSnapshot> {
    let changed = snapshot === undefined;
    for (;;) {
      const page = await store.readAll({
        from: position === 0n ? 'start' : position,
        maxCount: PAGE,
        filter: { streamPrefix: [GATE_STREAM_PREFIX, STAGE_STREAM_PREFIX] },
      });
      for (const recorded of page) {
        const event: DomainEvent = { type: recorded.type, data: recorded.data };
        if (isGateEvent(event)) {
          const id = event.data.gateId;
          gates.set(id, evolveGate(gates.get(id) ?? initialGateState(), event));
          changed = true;
        } else if (isStageEvent(event)) {
          const id = event.data.stageId;
          stages.set(id, evolveStage(stages.get(id) ?? initialStageState(), event));
          changed = true;
        }
        position = recorded.position;
      }
      if (page.length < PAGE) break;
    }
    if (changed || snapshot === undefined)
      snapshot = {
        position,
        gates: new Map(gates),
        stages: new Map(stages),
        definitions: buildDefinitions(gates.values(), stages.values(), { compile }),
      };
    return snapshot;
  }

  return {
    load() {
      const next = queue.then(refresh, refresh);
      queue = next.catch(() => undefined);
      return next;
    },
  };
}
