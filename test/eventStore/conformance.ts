// The event-store conformance suite (STYLE.md §3): one suite, run by every
// backend's spec with a store factory. Every test uses its own stream-name prefix
// and filters `$all` by it, so the suite also runs against a shared, non-empty
// server (KurrentDB).
//
// One suite, in parts by what they test: conformanceWrites.ts (appends, expected
// revisions, idempotency), conformanceReads.ts (reads, subscriptions, lookup
// keys), conformanceGuards.ts (integrity, bad input, lifecycle); the harness and
// shared helpers are in conformanceSupport.ts.
import { describe } from 'node:test';
import { conformanceContext, type ConformanceHarness } from './conformanceSupport.js';
import { badInput, integrity, lifecycle } from './conformanceGuards.js';
import { lookupKeys, reading, subscriptions } from './conformanceReads.js';
import { appendAndExpectedRevision, idempotency } from './conformanceWrites.js';

export type { ConformanceHarness, ConformanceQuirks } from './conformanceSupport.js';

export function eventStoreConformance(backend: string, harness: ConformanceHarness): void {
  const context = conformanceContext(backend, harness);
  describe(`event store conformance: ${backend}`, () => {
    appendAndExpectedRevision(context);
    reading(context);
    subscriptions(context);
    idempotency(context);
    lookupKeys(context);
    integrity(context);
    badInput(context);
    lifecycle(context);
  });
}
