// Rebuild equals incremental (property): any sequence of domain events, applied
// in random batch splits (some batches failing once, so their events go one by
// one), leaves every read model exactly as one replay of the whole sequence.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { projections } from '../../projections/index.js';
import type { GateVerdict } from '../../src/domain/events.js';
import type { RecordedEvent } from '../../src/eventStore/types.js';
import { applyBatch, DEFAULT_RETRY } from '../../src/readModels/applyBatch.js';
import type { ProjectionDefinition, ReadModelStore } from '../../src/readModels/index.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import {
  attestationIssued,
  gateVerdict,
  pipelineEvent,
  receiptRecorded,
  receiptRevoked,
  stageVerdict,
} from '../support/projectionEvents.js';
import { recorded } from '../support/projection.js';

const unit = fc.constantFrom('a/1/1/x/rpm', 'b/2/1/x/rpm', 'c/3/1/x/rpm');
const id = fc.constantFrom('r0', 'r1', 'r2', 'r3', 'r4', 'r5');
const gate = fc.constantFrom('tests', 'sast', 'review');
const stage = fc.constantFrom('qa', 'staging', 'prod');
const digest = fc.constantFrom('a', 'b', 'c').map((c) => ({ sha256: c.repeat(64) }));
const attestationId = fc.constantFrom('01ATT0', '01ATT1', '01ATT2');

/** Each arbitrary makes the event when called, so positions follow the sequence. */
const eventMaker: fc.Arbitrary<() => RecordedEvent> = fc.oneof(
  fc
    .tuple(
      id,
      unit,
      fc.array(fc.record({ name: fc.constantFrom('x.rpm', 'y.rpm'), digest }), { maxLength: 2 }),
    )
    .map(
      ([r, u, artifacts]) =>
        () =>
          receiptRecorded(r, u, { artifacts }),
    ),
  fc.tuple(id, unit).map(
    ([r, u]) =>
      () =>
        receiptRevoked(r, u),
  ),
  fc.tuple(unit, gate, fc.constantFrom<GateVerdict>('passed', 'failed', 'pending')).map(
    ([u, g, v]) =>
      () =>
        gateVerdict(u, g, v),
  ),
  fc.tuple(unit, stage, fc.boolean()).map(
    ([u, s, p]) =>
      () =>
        stageVerdict(u, s, p),
  ),
  fc.constantFrom('ci-1', 'ci-2').map((source) => () => pipelineEvent(source, 'org.example.thing')),
  fc
    .tuple(
      attestationId,
      unit,
      fc.array(fc.record({ name: fc.constantFrom('x.rpm'), digest }), { maxLength: 2 }),
      fc.option(stage),
    )
    .map(
      ([a, u, subjects, s]) =>
        () =>
          attestationIssued(a, u, {
            subjects,
            ...(s === null
              ? {}
              : {
                  kind: 'vsa',
                  stage: { stageId: s, stageVersion: 1, passed: true, verdictEventId: 'e' },
                }),
          }),
    ),
  fc.constant(() => recorded('Unrelated.v1', {})),
);

/** Fails the first call of each listed batch, to exercise the one-by-one path. */
function flaky(
  definition: ProjectionDefinition,
  failFirst: Set<number>,
): ProjectionDefinition & { batch: number } {
  const wrapped = {
    ...definition,
    batch: 0,
    handle: (
      events: readonly RecordedEvent[],
      ctx: Parameters<ProjectionDefinition['handle']>[1],
    ) => {
      if (failFirst.delete(wrapped.batch)) throw new Error('transient');
      return definition.handle(events, ctx);
    },
  };
  return wrapped;
}

async function project(
  events: RecordedEvent[],
  cuts: number[],
  failFirst: number[],
): Promise<Record<string, unknown>> {
  const store: ReadModelStore = getSQLiteReadModelStore({ path: ':memory:' });
  try {
    const bounds = [
      0,
      ...[...new Set(cuts.map((c) => c % (events.length + 1)))].sort((a, b) => a - b),
      events.length,
    ];
    const out: Record<string, unknown> = {};
    for (const definition of projections) {
      await store.ensureProjection(definition);
      const def = flaky(definition, new Set(failFirst));
      const log = () => undefined;
      for (let i = 0; i + 1 < bounds.length; i++) {
        const batch = events.slice(bounds[i], bounds[i + 1]);
        def.batch = i;
        const outcome = await applyBatch(
          {
            readModels: store,
            definition: def,
            retry: { ...DEFAULT_RETRY, initialDelayMs: 0 },
            onPoison: 'park',
            log,
          },
          batch,
        );
        assert.deepEqual(outcome, { ok: true, parked: 0 });
      }
      for (const table of definition.tables) out[table.name] = (await store.find(table)).rows;
      out[`${definition.name}@`] = await store.getCheckpoint(definition.name);
    }
    return out;
  } finally {
    await store.close();
  }
}

describe('rebuild equals incremental', () => {
  it('holds for random event sequences and batch splits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventMaker, { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.nat({ max: 8 }), { maxLength: 3 }),
        async (makers, cuts, failFirst) => {
          const events = makers.map((make) => make());
          const incremental = await project(events, cuts, failFirst);
          const rebuilt = await project(events, [], []);
          assert.deepStrictEqual(incremental, rebuilt);
        },
      ),
      { numRuns: 60 },
    );
  });
});
