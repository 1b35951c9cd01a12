// The attestor: a stage passed on receipts gets exactly one VSA, issued by the
// subscription; a restart (from the checkpoint, or with no checkpoint at all after
// a VSA was issued) issues nothing twice; a failing store is retried, not fatal.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ATTESTOR_CHECKPOINT_STREAM,
  startAttestor,
  type AttestorLogger,
} from '../../src/application/attestations/index.js';
import { EventTypes } from '../../src/domain/events.js';
import { UNIT, fixture, passRelease, type Fixture } from '../support/attestations.js';

const OTHER_UNIT = 'zlib/1.3/1.el9/x86_64/rpm';

async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const vsasOf = async (f: Fixture, unit: string) =>
  (await f.attestations.listAttestations(unit)).filter((a) => a.kind === 'vsa');

describe('attestor', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(() => f.store.close());

  it('issues exactly one VSA when a stage passes on receipts, and none again after a restart', async () => {
    const attestor = startAttestor({ store: f.store, attestations: f.attestations });
    await passRelease(f.domain);
    await until(async () => (await vsasOf(f, UNIT)).length > 0, 'the VSA');
    await until(() => attestor.handled === 1, 'the checkpoint');
    const [vsa, ...more] = await vsasOf(f, UNIT);
    assert.equal(more.length, 0);
    assert.equal(vsa?.trigger.kind, 'stage-passed');
    assert.equal(vsa?.stage?.stageId, 'release');
    assert.equal(vsa?.stage?.passed, true);
    const { events } = await f.store.readStream(`unit-${UNIT}`);
    const passed = events.find((e) => e.type === EventTypes.StagePassed);
    assert.deepEqual(vsa?.trigger, { kind: 'stage-passed', eventId: passed?.id });
    await attestor.stop();

    // Restart: resumes after the checkpoint; only the new unit's stage gets a VSA.
    const again = startAttestor({ store: f.store, attestations: f.attestations });
    await passRelease(f.domain, OTHER_UNIT);
    await until(async () => (await vsasOf(f, OTHER_UNIT)).length > 0, 'the second VSA');
    await until(() => again.handled === 1, 'the second checkpoint');
    await again.stop();
    assert.equal((await vsasOf(f, UNIT)).length, 1);
    assert.equal((await vsasOf(f, OTHER_UNIT)).length, 1);
    const checkpoints = await f.store.readStream(ATTESTOR_CHECKPOINT_STREAM);
    assert.equal(checkpoints.events.length, 2);
  });

  it('issues nothing twice when redelivered from the start (checkpoint lost)', async () => {
    // A redelivery of every StagePassed: the same ones, already attested.
    const replay = await fixture();
    try {
      await passRelease(replay.domain);
      const { events } = await replay.store.readStream(`unit-${UNIT}`);
      const passed = events.find((e) => e.type === EventTypes.StagePassed);
      assert.ok(passed);
      const first = await replay.attestations.issueStagePassedVsa(passed);
      assert.equal(first.duplicate, false);
      const second = await replay.attestations.issueStagePassedVsa(passed);
      assert.equal(second.duplicate, true);
      assert.equal(second.attestationId, first.attestationId);
      const attestor = startAttestor({ store: replay.store, attestations: replay.attestations });
      await until(() => attestor.handled === 1, 'the replayed StagePassed');
      await attestor.stop();
      assert.equal((await vsasOf(replay, UNIT)).length, 1);
    } finally {
      await replay.store.close();
    }
  });

  it('logs and retries with backoff when issuing fails, and never throws', async () => {
    const flaky = await fixture();
    try {
      let failures = 2;
      const errors: string[] = [];
      const logger: AttestorLogger = {
        info: () => {},
        warn: () => {},
        error: (obj) => errors.push(JSON.stringify(obj)),
      };
      const attestor = startAttestor({
        store: flaky.store,
        logger,
        backoffMs: 10,
        attestations: {
          issueStagePassedVsa: async (event) => {
            if (failures-- > 0) throw new Error('signing service down');
            return flaky.attestations.issueStagePassedVsa(event);
          },
        },
      });
      await passRelease(flaky.domain);
      await until(() => attestor.handled === 1, 'the VSA after retries');
      await attestor.stop();
      assert.equal(errors.length, 2);
      assert.match(errors[0] ?? '', /signing service down/);
      assert.equal((await vsasOf(flaky, UNIT)).length, 1);
    } finally {
      await flaky.store.close();
    }
  });
});
