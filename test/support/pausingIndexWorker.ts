// The SQLite index worker thread (src/readModels/sqlite/indexWorker.ts), made
// to stop where a test ends it: once it has sent the trace of the first
// statement that starts with `workerData.pauseAt` (sent before SQLite runs
// it), it waits until the thread is terminated. The test then ends it at a
// known point of its build, instead of racing a build it hopes is still running.
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort;
if (port === null) throw new Error('pausingIndexWorker must run in a worker thread');
const { pauseAt } = workerData as { pauseAt: string };
const send = port.postMessage.bind(port);
let paused = false;
port.postMessage = (message: unknown): void => {
  send(message);
  const { t, sql } = message as { t?: unknown; sql?: unknown };
  if (paused || t !== 'trace' || typeof sql !== 'string' || !sql.startsWith(pauseAt)) return;
  paused = true;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // until terminate()
};

await import('../../src/readModels/sqlite/indexWorker.js');
