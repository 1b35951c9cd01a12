// The bulk log of `bench projections`: 20 events per unit (16 receipts, 2 gate
// verdicts, 1 stage verdict, 1 pipeline event), appended through the port. Run
// as its own process (`node --import tsx bench/projectionsLog.ts <path> <events>`)
// so that the bench process measuring the rebuild's peak RSS did not fill the
// log itself (the fill's heap stays in the RSS of the process that ran it).
import { pathToFileURL } from 'node:url';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import type { EventStore, EventToAppend } from '../src/eventStore/types.js';
import { sampleEvent } from './support.js';

/** Events per unit in the bulk log: 16 receipts, 2 gate verdicts, 1 stage verdict, 1 pipeline event. */
const PER_UNIT = 20;
const PARALLEL_UNITS = 100;

function unitEvents(u: number): { unit: string; events: EventToAppend[]; pipeline: EventToAppend } {
  const unit = `pkg${u % 5000}/1.${Math.floor(u / 5000)}.0/1.el9/x86_64/rpm`;
  const receiptIds: string[] = [];
  const events: EventToAppend[] = [];
  for (let k = 0; k < 16; k++) {
    const data = { ...sampleEvent(u * PER_UNIT + k), unit, receiptId: `r-${u}-${k}` };
    receiptIds.push(data.receiptId);
    events.push({ type: 'ReceiptRecorded.v1', data });
  }
  const trigger = { kind: 'receipt-recorded', receiptId: receiptIds.at(-1) };
  for (const [gateId, verdict] of [
    ['build', 'passed'],
    ['security', u % 3 === 0 ? 'failed' : 'passed'],
  ] as const)
    events.push({
      type: verdict === 'passed' ? 'GatePassed.v1' : 'GateFailed.v1',
      data: { unit, gateId, gateVersion: 1, verdict, receiptIds, missingActions: [], trigger },
    });
  events.push({
    type: 'StagePassed.v1',
    data: { unit, stageId: 'release', stageVersion: 1, passed: true, receiptIds, trigger },
  });
  const pipeline: EventToAppend = {
    type: 'PipelineEventRecorded.v1',
    data: {
      cloudEvent: {
        source: 'https://ci.example.com/pipelines/openssl',
        type: 'dev.cdevents.pipelinerun.finished.0.2.0',
        subject: unit,
        time: '2024-05-01T12:00:00Z',
      },
    },
    metadata: { correlationId: `run-${u}` },
  };
  return { unit, events, pipeline };
}

export async function fillLog(store: EventStore, total: number): Promise<void> {
  const units = Math.ceil(total / PER_UNIT);
  for (let first = 0; first < units; first += PARALLEL_UNITS) {
    const batch = Array.from({ length: Math.min(PARALLEL_UNITS, units - first) }, (_, k) =>
      unitEvents(first + k),
    );
    await Promise.all([
      ...batch.map(({ unit, events }) => store.append(`unit-${unit}`, events.slice(0, 19))),
      store.append(
        'pipeline-bench',
        batch.map((b) => b.pipeline),
      ),
    ]);
    if (!process.stderr.isTTY && first % (PARALLEL_UNITS * 100) === 0 && first > 0)
      process.stderr.write(
        `projections: filled ${(first * PER_UNIT).toLocaleString('en-US')} events\n`,
      );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [path, events] = process.argv.slice(2);
  if (path === undefined || !(Number(events) > 0)) {
    console.error('usage: node --import tsx bench/projectionsLog.ts <log path> <events>');
    process.exit(2);
  }
  const store = getSQLiteEventStore({ path, synchronous: 'NORMAL' });
  await fillLog(store, Number(events));
  await store.close();
}
