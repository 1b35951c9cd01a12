// `provenant projections run` as a child process with its metrics listener on
// loopback (port 0: the URL is read from its "metrics listening on" line), and
// a Prometheus text scraper for it. Every worker is killed by a guard after two
// minutes at most; tests stop it with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { cliArgs } from './cli.js';

export interface Worker {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  log: string;
  /** The metrics listener's URL. */
  url: string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export function startWorker(env: NodeJS.ProcessEnv, args: string[] = []): Promise<Worker> {
  const child = spawn(
    process.execPath,
    cliArgs('projections', 'run', '--metrics-host', '127.0.0.1', '--metrics-port', '0', ...args),
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve(code);
    }),
  );
  const worker: Worker = {
    child,
    log: '',
    url: '',
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    const onData = (chunk: string): void => {
      worker.log += chunk;
      const match = /metrics listening on (http:\/\/\S+)/.exec(worker.log);
      if (match?.[1] !== undefined && worker.url === '' && /projections running/.test(worker.log)) {
        worker.url = match[1];
        resolve(worker);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    void exited.then((code) =>
      reject(new Error(`projections run exited (${code}): ${worker.log}`)),
    );
  });
}

/** One scrape: every sample, keyed by its name and labels as printed (`name{label="x"}`). */
export async function scrape(url: string, token: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text}`);
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** Scrapes every 100 ms until `done` holds of the samples; fails after `timeoutMs`. */
export async function scrapeUntil(
  url: string,
  token: string,
  done: (samples: Map<string, number>) => boolean,
  timeoutMs = 30_000,
): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape(url, token);
    if (done(samples)) return samples;
    if (Date.now() > deadline)
      throw new Error(`metrics never matched; last scrape:\n${[...samples].join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
