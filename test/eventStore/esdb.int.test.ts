// The EventStoreDB/KurrentDB adapter against a live server: the conformance suite
// runs when EVENTSTORE_CONNECTION_STRING is set (e.g. `docker compose up -d
// eventstore`, then EVENTSTORE_CONNECTION_STRING='esdb://localhost:2113?tls=false').
// Without it the suite is reported as skipped, with the reason, not as passed.
import { describe, it } from 'node:test';
import { getEventStoreDBEventStore } from '../../src/eventStore/esdb/index.js';
import { eventStoreConformance } from './conformance.js';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString === undefined || connectionString === '') {
  const reason = 'EVENTSTORE_CONNECTION_STRING is not set (run: docker compose up -d eventstore)';
  console.log(`# esdb conformance skipped: ${reason}`);
  describe('event store conformance: esdb (live KurrentDB)', { skip: reason }, () => {
    it('runs against a live server');
  });
} else {
  const open = () =>
    Promise.resolve(
      getEventStoreDBEventStore({
        connectionString,
        ...(process.env.EVENTSTORE_USERNAME !== undefined && {
          username: process.env.EVENTSTORE_USERNAME,
        }),
        ...(process.env.EVENTSTORE_PASSWORD !== undefined && {
          password: process.env.EVENTSTORE_PASSWORD,
        }),
        ...(process.env.EVENTSTORE_CA_FILE !== undefined && {
          tlsCaFile: process.env.EVENTSTORE_CA_FILE,
        }),
      }),
    );
  // No tamper quirk: a KurrentDB log cannot be edited in place, so that test is skipped.
  eventStoreConformance('esdb (live KurrentDB)', { createStore: open });
}
