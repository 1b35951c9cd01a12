// The generic command handler (emmett's CommandHandler is the model): read a stream
// through the port, fold it with `evolve`, `decide`, and append the decided events
// with the EXACT expected revision (`no_stream` for a new stream). On a revision
// conflict someone else appended first: reload and decide again, a bounded number
// of times (DESIGN.md §2, optimistic concurrency).
import { NO_STREAM, isRevisionConflictError } from '../eventStore/expectedRevision.js';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  RecordedEvent,
} from '../eventStore/types.js';
import type { DomainEvent } from '../domain/events.js';

/** Default number of decide-and-append attempts before a conflict is given up on. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** How a stream is folded into a state. */
export interface StreamFold<State, Event extends DomainEvent> {
  evolve: (state: State, event: Event) => State;
  initialState: () => State;
  /**
   * Maps a stored event to a domain event, or `undefined` to skip it. Upcasting of
   * old event versions belongs here.
   */
  fromRecorded: (event: RecordedEvent) => Event | undefined;
}

/** A stream read and folded. */
export interface LoadedStream<State> {
  state: State;
  /** Revision of the last event, or `no_stream`. */
  currentRevision: number | typeof NO_STREAM;
  /** The stored events read, in stream order. */
  recorded: RecordedEvent[];
}

/** Reads `stream` and folds it. */
export async function loadStream<State, Event extends DomainEvent>(
  store: EventStore,
  stream: string,
  fold: StreamFold<State, Event>,
): Promise<LoadedStream<State>> {
  const { events, currentRevision } = await store.readStream(stream);
  let state = fold.initialState();
  for (const recorded of events) {
    const event = fold.fromRecorded(recorded);
    if (event !== undefined) state = fold.evolve(state, event);
  }
  return { state, currentRevision, recorded: events };
}

/** What one handled command did. */
export interface HandleResult<State, Event extends DomainEvent> {
  stream: string;
  /** The stream as it was when the command was decided. */
  loaded: LoadedStream<State>;
  /** The events decided (empty: nothing was appended). */
  events: Event[];
  /** The state after the decided events. */
  newState: State;
  /** The append's result, or undefined when nothing was decided. */
  appendResult: AppendResult | undefined;
  /** Attempts used (1 unless there were conflicts). */
  attempts: number;
}

export interface HandleOptions<Event extends DomainEvent> {
  /** Turns decided events into events to append (metadata, idempotency keys). */
  toAppend?: (events: readonly Event[]) => EventToAppend[];
  /** Defaults to `DEFAULT_MAX_ATTEMPTS`. */
  maxAttempts?: number;
}

/**
 * Handles one command against one stream. `decide` gets the folded state (and may
 * load other things it needs, such as current definitions: it runs again on every
 * retry). Errors from `decide` and from the store propagate unchanged; the last
 * `RevisionConflictError` propagates when the attempts run out.
 */
export async function handleCommand<State, Event extends DomainEvent>(
  store: EventStore,
  stream: string,
  fold: StreamFold<State, Event>,
  decide: (state: State) => Event[] | Promise<Event[]>,
  options: HandleOptions<Event> = {},
): Promise<HandleResult<State, Event>> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const toAppend =
    options.toAppend ??
    ((events: readonly Event[]): EventToAppend[] =>
      events.map((e) => ({ type: e.type, data: e.data })));
  for (let attempt = 1; ; attempt++) {
    const loaded = await loadStream(store, stream, fold);
    const events = await decide(loaded.state);
    const newState = events.reduce(fold.evolve, loaded.state);
    if (events.length === 0)
      return { stream, loaded, events, newState, appendResult: undefined, attempts: attempt };
    try {
      const appendResult = await store.append(stream, toAppend(events), {
        expectedRevision: loaded.currentRevision === NO_STREAM ? NO_STREAM : loaded.currentRevision,
      });
      return { stream, loaded, events, newState, appendResult, attempts: attempt };
    } catch (error) {
      if (isRevisionConflictError(error) && attempt < maxAttempts) continue;
      throw error;
    }
  }
}
