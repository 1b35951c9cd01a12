// Starts a TypeScript worker when Provenant runs from its sources through tsx
// (tests, benchmarks, development). Node 20 does not apply `--import tsx` to a
// worker's entry file, so the worker registers tsx itself and then imports the
// real entry. The compiled build (dist/) starts its .js workers directly.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.entry);
