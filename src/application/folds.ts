// How each kind of stream is folded into its decider's state: unit, gate, stage.
// Upcasting of old event versions belongs in `fromRecorded`.
import {
  isGateEvent,
  isStageEvent,
  isUnitEvent,
  type DomainEvent,
  type GateEvent,
  type StageEvent,
  type UnitEvent,
} from '../domain/events.js';
import { evolveGate, initialGateState, type GateState } from '../domain/gate.js';
import { evolveStage, initialStageState, type StageState } from '../domain/stage.js';
import { evolveUnit, initialUnitState, type UnitState } from '../domain/unit.js';
import type { RecordedEvent } from '../eventStore/types.js';
import type { StreamFold } from './commandHandler.js';

const asDomainEvent = (recorded: RecordedEvent): DomainEvent => ({
  type: recorded.type,
  data: recorded.data,
});

/** A fold over the events of a stream that `accepts` recognises; others are skipped. */
const foldOf = <State, Event extends DomainEvent>(
  evolve: (state: State, event: Event) => State,
  initialState: () => State,
  accepts: (event: DomainEvent) => event is Event,
): StreamFold<State, Event> => ({
  evolve,
  initialState,
  fromRecorded: (recorded) => {
    const event = asDomainEvent(recorded);
    return accepts(event) ? event : undefined;
  },
});

export const unitFold: StreamFold<UnitState, UnitEvent> = foldOf(
  evolveUnit,
  initialUnitState,
  isUnitEvent,
);
export const gateFold: StreamFold<GateState, GateEvent> = foldOf(
  evolveGate,
  initialGateState,
  isGateEvent,
);
export const stageFold: StreamFold<StageState, StageEvent> = foldOf(
  evolveStage,
  initialStageState,
  isStageEvent,
);
