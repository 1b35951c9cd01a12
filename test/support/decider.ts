// Given/when/then helpers for deciders (STYLE.md §5; emmett's deciderSpecification
// is the model): given past events, when a command, then the decided events — or
// nothing, or a typed error.
import assert from 'node:assert/strict';
import { isProvenantError, type ErrorCode } from '../../src/errors.js';

/** What the helpers need of a decider. */
export interface Decider<Command, Event, State> {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: () => State;
}

/** The outcome checks of one `when`. */
export interface Then<Event> {
  /** The decided events equal `expected` exactly (deep, order-sensitive). */
  then: (expected: Event | Event[]) => void;
  /** The decided events satisfy `check` (for partial assertions); returns them. */
  thenEvents: (check: (events: Event[]) => void) => Event[];
  thenNothingHappened: () => void;
  /** Deciding throws a ProvenantError with `code`; `check` may inspect it further. */
  thenThrows: (
    code: ErrorCode,
    check?: (error: Error & { details?: Record<string, unknown> }) => void,
  ) => void;
}

/** `spec(given).when(command).then(events)`. */
export type DeciderSpecification<Command, Event> = (given?: Event | Event[]) => {
  when: (command: Command) => Then<Event>;
};

/** Builds the given/when/then helper for a decider. */
export function deciderSpecification<Command, Event, State>(
  decider: Decider<Command, Event, State>,
): DeciderSpecification<Command, Event> {
  return (given = []) => ({
    when: (command) => {
      const handle = (): Event[] => {
        const past = Array.isArray(given) ? given : [given];
        const state = past.reduce<State>(decider.evolve, decider.initialState());
        return decider.decide(command, state);
      };
      return {
        then: (expected) => {
          assert.deepStrictEqual(handle(), Array.isArray(expected) ? expected : [expected]);
        },
        thenEvents: (check) => {
          const events = handle();
          check(events);
          return events;
        },
        thenNothingHappened: () => {
          assert.deepStrictEqual(handle(), []);
        },
        thenThrows: (code, check) => {
          let decided: Event[] | undefined;
          try {
            decided = handle();
          } catch (error) {
            assert.ok(isProvenantError(error), `expected a ProvenantError, got ${String(error)}`);
            assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
            check?.(error);
            return;
          }
          assert.fail(`expected ${code} but the decider returned ${JSON.stringify(decided)}`);
        },
      };
    },
  });
}
