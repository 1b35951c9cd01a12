// Time travel from the log (DESIGN.md §5): a unit's status as of a time or a
// position, folded from its stream up to that point and evaluated under the gate
// and stage definitions as they stood then (their `gate-`/`stage-` streams folded
// up to the same point). It reads the log only, so it does not depend on read
// models being current. Also: the verdict changes between two points, and a unit's
// history as a timeline (the CLI's `replay`).
import { unitStream } from '../unitStreams.js';
import { buildDefinitions, type Definitions } from '../../domain/definitions.js';
import {
  EventTypes,
  isGateEvent,
  isStageEvent,
  type DomainEvent,
  type GateVerdictData,
  type StageVerdictData,
  type VerdictTrigger,
} from '../../domain/events.js';
import { evolveGate, initialGateState, type GateState } from '../../domain/gate.js';
import { GATE_STREAM_PREFIX, STAGE_STREAM_PREFIX } from '../../domain/names.js';
import { evolveStage, initialStageState, type StageState } from '../../domain/stage.js';
import { normalizeUnitKey } from '../../domain/unitKey.js';
import { ProvenantError, type ErrorCode } from '../../errors.js';
import type { EventStore, RecordedEvent } from '../../eventStore/types.js';
import { rfc3339Millis } from '../../rfc3339.js';
import { unitFold } from '../folds.js';
import type { UnitStatus } from '../types.js';
import { unitStatusOf } from './views.js';

/** A point of the log: a time (the log up to its first event recorded after it) or a position (inclusive). */
export type LogPoint = { time: string } | { position: bigint };

/** Why a time that is not one was refused, when it can be told. */
function timeHint(value: string): string {
  // `+02:00` in a URL's query arrives as ` 02:00` (form encoding reads `+` as a space).
  if (/\d \d{2}:\d{2}$/.test(value))
    return " (a '+' in a URL's query reads as a space: write it %2B)";
  if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}/.test(value)) return ' (no such date or time)';
  return '';
}

/**
 * Parses a point: a decimal position, or an RFC 3339 time with every field in
 * range (normalised to ISO 8601 UTC; a space may stand for the `T`, a leap
 * second counts as :59.999).
 */
export function parseLogPoint(value: string, name: string, code: ErrorCode): LogPoint {
  if (/^[0-9]{1,19}$/.test(value)) return { position: BigInt(value) };
  const ms = rfc3339Millis(value.replace(/^(\d{4}-\d{2}-\d{2}) /, '$1T'));
  if (ms === undefined)
    throw new ProvenantError(
      code,
      `${name} must be an RFC 3339 time (2026-01-31T12:00:00Z) or a log position, got '${value.slice(0, 64)}'${timeHint(value)}`,
      { details: { [name]: value.slice(0, 64) } },
    );
  return { time: new Date(ms).toISOString() };
}

/**
 * The test of whether an event lies at or before `point` (a time point parsed
 * once, not per event). A log read up to a time point stops at the first event
 * recorded after it, so that every answer is a prefix of the log, a state that
 * existed: recorded times follow the log's order only while the clocks that
 * wrote them did (a clock stepped back, two nodes' clocks apart).
 */
export function atOrBefore(point: LogPoint): (event: RecordedEvent) => boolean {
  if ('position' in point) return (event) => event.position <= point.position;
  const time = Date.parse(point.time);
  return (event) => Date.parse(event.recordedAt) <= time;
}

/** The events before the first that is not `inRange` (a prefix of the stream). */
function upTo(
  events: RecordedEvent[],
  inRange: (event: RecordedEvent) => boolean,
): RecordedEvent[] {
  const end = events.findIndex((event) => !inRange(event));
  return end === -1 ? events : events.slice(0, end);
}

/** Refuses a point after now (time) or beyond the head of the log (position). */
export async function assertNotFuture(
  store: EventStore,
  point: LogPoint,
  name: string,
): Promise<void> {
  if ('time' in point) {
    if (Date.parse(point.time) > Date.now())
      throw new ProvenantError('QUERY_AS_OF_IN_FUTURE', `${name} ${point.time} is in the future`);
    return;
  }
  const head = await store.headPosition();
  if (point.position > head)
    throw new ProvenantError(
      'QUERY_AS_OF_IN_FUTURE',
      `${name} ${point.position} is beyond the head of the log (${head})`,
      { details: { head: head.toString() } },
    );
}

const PAGE = 500;

/** The definitions as they stood at `point`: the gate and stage streams folded up to it. */
export async function definitionsAt(store: EventStore, point: LogPoint): Promise<Definitions> {
  const gates = new Map<string, GateState>();
  const stages = new Map<string, StageState>();
  const inRange = atOrBefore(point);
  let from: 'start' | bigint = 'start';
  for (;;) {
    const page = await store.readAll({
      from,
      maxCount: PAGE,
      filter: { streamPrefix: [GATE_STREAM_PREFIX, STAGE_STREAM_PREFIX] },
    });
    for (const recorded of page) {
      if (!inRange(recorded)) return buildDefinitions(gates.values(), stages.values());
      const event: DomainEvent = { type: recorded.type, data: recorded.data };
      if (isGateEvent(event))
        gates.set(
          event.data.gateId,
          evolveGate(gates.get(event.data.gateId) ?? initialGateState(), event),
        );
      else if (isStageEvent(event))
        stages.set(
          event.data.stageId,
          evolveStage(stages.get(event.data.stageId) ?? initialStageState(), event),
        );
    }
    const last = page.at(-1);
    if (page.length < PAGE || last === undefined) break;
    from = last.position;
  }
  return buildDefinitions(gates.values(), stages.values());
}

/** Events of a unit stream read per page. */
const STREAM_PAGE = 1000;

/**
 * The unit's events, up to `point` when it is a position (pages stop there: the
 * stream is in log order). Throws DOMAIN_UNIT_NOT_FOUND for a unit with no stream.
 */
export async function readUnit(
  store: EventStore,
  unit: string,
  point?: LogPoint,
): Promise<RecordedEvent[]> {
  const stream = unitStream(unit);
  if (point === undefined || !('position' in point)) {
    const { events, currentRevision } = await store.readStream(stream);
    if (currentRevision === 'no_stream')
      throw new ProvenantError('DOMAIN_UNIT_NOT_FOUND', `Unit '${unit}' has no receipts`, {
        details: { unit },
      });
    return events;
  }
  const out: RecordedEvent[] = [];
  for (;;) {
    // Positions are distinct integers, so at most `point - p` events of the
    // stream lie after position p (the last one read, 0 before the first) and at or
    // before the point: a page asks for no more (a dense stream is read no further).
    const left = point.position - (out.at(-1)?.position ?? 0n);
    const maxCount = left < BigInt(STREAM_PAGE) ? Math.max(1, Number(left)) : STREAM_PAGE;
    const { events, currentRevision } = await store.readStream(stream, {
      from: out.length,
      maxCount,
    });
    if (currentRevision === 'no_stream')
      throw new ProvenantError('DOMAIN_UNIT_NOT_FOUND', `Unit '${unit}' has no receipts`, {
        details: { unit },
      });
    for (const event of events) {
      if (event.position > point.position) return out;
      out.push(event);
    }
    if (events.length < maxCount || out.at(-1)?.position === point.position) return out;
  }
}

/** The point as the API shows it. */
export const pointView = (point: LogPoint): { time: string } | { position: string } =>
  'position' in point ? { position: point.position.toString() } : { time: point.time };

export type UnitStatusAsOf = UnitStatus & { asOf: { time: string } | { position: string } };

/** A unit's status as of `point`, under the definitions of then. */
export async function unitStatusAsOf(
  store: EventStore,
  unitKey: string,
  point: LogPoint,
): Promise<UnitStatusAsOf> {
  const unit = normalizeUnitKey(unitKey);
  await assertNotFuture(store, point, 'asOf');
  const events = upTo(await readUnit(store, unit, point), atOrBefore(point));
  const last = events.at(-1);
  if (last === undefined)
    throw new ProvenantError(
      'DOMAIN_UNIT_NOT_FOUND',
      `Unit '${unit}' had no receipts as of ${'position' in point ? `position ${point.position}` : point.time}`,
      { details: { unit } },
    );
  let state = unitFold.initialState();
  for (const recorded of events) {
    const event = unitFold.fromRecorded(recorded);
    if (event !== undefined) state = unitFold.evolve(state, event);
  }
  const defs = await definitionsAt(store, point);
  return { ...unitStatusOf(unit, last.revision, state, events, defs), asOf: pointView(point) };
}

/** One change of a gate or stage verdict, with the verdict before and after it. */
export interface VerdictDiff {
  eventId: string;
  position: string;
  recordedAt: string;
  type: string;
  gateId?: string;
  stageId?: string;
  /** Gates: `pending` (also before any verdict), `passed`, `failed`; stages: `passed`, `not-passed`. */
  before: string;
  after: string;
  trigger: VerdictTrigger;
}

export interface UnitDiff {
  unit: string;
  from: { time: string } | { position: string };
  to: { time: string } | { position: string };
  changes: VerdictDiff[];
}

export const verdictOf = (event: RecordedEvent): { id: string; verdict: string } | undefined => {
  switch (event.type) {
    case EventTypes.GatePassed:
    case EventTypes.GateFailed:
    case EventTypes.GateReopened: {
      const data = event.data as GateVerdictData;
      return { id: `gate:${data.gateId}`, verdict: data.verdict };
    }
    case EventTypes.StagePassed:
    case EventTypes.StageReopened: {
      const data = event.data as StageVerdictData;
      return { id: `stage:${data.stageId}`, verdict: data.passed ? 'passed' : 'not-passed' };
    }
    default:
      return undefined;
  }
};

/** What a gate or stage is before any verdict is recorded: pending, not passed. */
export const initialVerdict = (id: string): string =>
  id.startsWith('gate:') ? 'pending' : 'not-passed';

const comparable = (a: LogPoint, b: LogPoint): boolean =>
  'position' in a ? 'position' in b : 'time' in b;

const after = (a: LogPoint, b: LogPoint): boolean =>
  'position' in a && 'position' in b
    ? a.position > b.position
    : 'time' in a && 'time' in b && Date.parse(a.time) > Date.parse(b.time);

/** The start of the log, as a point of the same kind as `like` (a time or a position). */
const startLike = (like: LogPoint | undefined): LogPoint =>
  like !== undefined && 'time' in like ? { time: new Date(0).toISOString() } : { position: 0n };

/**
 * The verdict events of a unit after `from` and at or before `to` that changed a
 * verdict, each with the verdict before it. `from` defaults to the start of the
 * log (a time when `to` is one), `to` to now.
 */
export async function unitDiff(
  store: EventStore,
  unitKey: string,
  from: LogPoint | undefined,
  to?: LogPoint,
): Promise<UnitDiff> {
  const unit = normalizeUnitKey(unitKey);
  from ??= startLike(to);
  const end: LogPoint =
    to ??
    ('time' in from
      ? { time: new Date().toISOString() }
      : { position: await store.headPosition() });
  if (!comparable(from, end))
    throw new ProvenantError(
      'QUERY_BAD_RANGE',
      '`from` and `to` must both be times or both positions',
    );
  if (after(from, end))
    throw new ProvenantError('QUERY_BAD_RANGE', '`from` is after `to`', {
      details: { from: pointView(from), to: pointView(end) },
    });
  const events = await readUnit(store, unit);
  const [atOrBeforeEnd, atOrBeforeFrom] = [atOrBefore(end), atOrBefore(from)];
  const current = new Map<string, string>();
  const changes: VerdictDiff[] = [];
  let pastFrom = false; // both points cut the stream where it first passes them (atOrBefore)
  for (const event of events) {
    if (!atOrBeforeEnd(event)) break;
    pastFrom ||= !atOrBeforeFrom(event);
    const verdict = verdictOf(event);
    if (verdict === undefined) continue;
    const before = current.get(verdict.id) ?? initialVerdict(verdict.id);
    current.set(verdict.id, verdict.verdict);
    if (!pastFrom || before === verdict.verdict) continue;
    const [kind, id] = [verdict.id.slice(0, 4), verdict.id.slice(verdict.id.indexOf(':') + 1)];
    changes.push({
      eventId: event.id,
      position: event.position.toString(),
      recordedAt: event.recordedAt,
      type: event.type,
      ...(kind === 'gate' ? { gateId: id } : { stageId: id }),
      before,
      after: verdict.verdict,
      trigger: (event.data as { trigger: VerdictTrigger }).trigger,
    });
  }
  return { unit, from: pointView(from), to: pointView(end), changes };
}
