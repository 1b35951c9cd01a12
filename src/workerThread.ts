// Starting a worker thread whose entry is a sibling module of the caller, both
// when Provenant runs compiled (dist/, the tests' esbuild output: the entry is
// plain .js) and from its sources through tsx (Node 20 does not apply
// `--import tsx` to a worker, so tsWorkerBoot.mjs registers tsx first).
import { Worker } from 'node:worker_threads';

/**
 * Starts `./<entry>` beside the module at `callerUrl` (its `import.meta.url`)
 * with `workerData`.
 */
export function startWorker(callerUrl: string, entry: string, workerData: object): Worker {
  if (!callerUrl.endsWith('.ts'))
    return new Worker(new URL(`./${entry}.js`, callerUrl), { workerData });
  return new Worker(new URL('./tsWorkerBoot.mjs', import.meta.url), {
    workerData: { ...workerData, entry: new URL(`./${entry}.ts`, callerUrl).href },
  });
}
