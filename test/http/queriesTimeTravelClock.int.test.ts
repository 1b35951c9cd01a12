// Time travel when the recorded times do not follow the log's order (a clock
// stepped back, or two nodes whose clocks are apart): `asOf` a time is the log
// up to its first event recorded after that time, a prefix, so the answer is a
// state the unit was in. The status (`GET /v1/units/{key}?asOf=`), the
// definitions it is evaluated under, `/diff` and `replay --as-of` agree.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDomainService, type DomainService } from '../../src/application/index.js';
import { unitDiff, unitStatusAsOf } from '../../src/application/queries/timeTravel.js';
import { unitHistory } from '../../src/application/queries/unitHistory.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';

const UNIT = 'skewed/1.0.0/1.el9/x86_64/rpm';
const at = (hhmm: string) => ({ time: `2026-01-01T${hhmm}:00.000Z` });

describe('asOf a time, with recorded times out of the log order', () => {
  let store: SQLiteEventStore;
  let domain: DomainService;
  const receiptIds: Record<string, string> = {};

  before(async () => {
    let now = new Date('2026-01-01T10:00:00Z');
    store = getSQLiteEventStore({ path: ':memory:', clock: () => now });
    domain = createDomainService({ eventStore: store });
    const step = (hhmm: string) => (now = new Date(at(hhmm).time));
    const record = async (action: string, hhmm: string) => {
      step(hhmm);
      const result = await domain.recordReceipt({ unit: UNIT, action, multipass: true });
      receiptIds[action] = result.receiptId;
    };
    await domain.defineGate('build', { requiredActions: ['build', 'test'] });
    await record('build', '10:01');
    await record('test', '10:05');
    await record('sast', '10:03'); // the clock stepped back: after `test` in the log, earlier by its time
    step('10:07');
    await domain.defineGate('late', { requiredActions: ['build'] });
    step('10:02'); // back again
    await domain.defineGate('early-by-the-clock', { requiredActions: ['build'] });
    await domain.evaluateUnit(UNIT); // both new gates pass, recorded at 10:02
  });
  after(() => store.close());

  it('folds the unit and its definitions up to the first event recorded after the time', async () => {
    const status = await unitStatusAsOf(store, UNIT, at('10:04'));
    // Not `sast` (10:03): it lies after `test` (10:05) in the log.
    assert.deepEqual(
      status.receipts.map((r) => r.receiptId),
      [receiptIds['build']],
    );
    // Not `early-by-the-clock` (10:02): it lies after `late` (10:07) in the log.
    assert.deepEqual(
      status.gates.map((g) => g.gateId),
      ['build'],
    );
    const history = await unitHistory(store, UNIT, at('10:04'));
    assert.deepEqual(
      history.entries.map((e) => e.receiptId),
      [receiptIds['build']],
    );
  });

  it('diffs from the same cut: what lies after it in the log changed after it', async () => {
    const diff = await unitDiff(store, UNIT, at('10:04'), at('10:08'));
    assert.deepEqual(
      diff.changes.map((c) => [c.gateId, c.after, c.recordedAt.slice(11, 16)]),
      [
        ['build', 'passed', '10:05'],
        ['early-by-the-clock', 'passed', '10:02'],
        ['late', 'passed', '10:02'],
      ],
    );
  });

  it('takes every event once the time is past them all', async () => {
    const status = await unitStatusAsOf(store, UNIT, at('10:08'));
    assert.deepEqual(
      status.receipts.map((r) => r.receiptId),
      ['build', 'test', 'sast'].map((a) => receiptIds[a]),
    );
    assert.deepEqual(status.gates.map((g) => g.gateId).sort(), [
      'build',
      'early-by-the-clock',
      'late',
    ]);
  });
});
