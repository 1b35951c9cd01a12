// The optional backends load only when configured (src/adapters.ts): a SQLite
// start and `--help` must not load the KurrentDB client (grpc) nor pg, which
// cost about half a second of CPU at every CLI start. Nor any sigstore package,
// loaded at the first signature or verification (src/sigstore.ts). The child
// records the CommonJS modules it loaded (every one of these packages is
// CommonJS) at exit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliArgs } from './support/cli.js';

/** Preloaded in the child: writes the paths of the loaded CommonJS modules to LOADED_MODULES_FILE at exit. */
const recorder = `data:text/javascript,${encodeURIComponent(`
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const cache = createRequire(process.cwd() + '/').cache;
process.on('exit', () => writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify(Object.keys(cache))));
`)}`;

const dir = mkdtempSync(join(tmpdir(), 'provenant-lazy-adapters-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The npm packages a CLI run loaded; `untilServing` stops a `serve` with SIGTERM once it listens. */
async function packagesLoaded(
  name: string,
  args: string[],
  env: Record<string, string>,
  untilServing = false,
): Promise<Set<string>> {
  const file = join(dir, `${name}.json`);
  const child = spawn(process.execPath, ['--import', recorder, ...cliArgs(...args)], {
    env: { ...process.env, ...env, LOADED_MODULES_FILE: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let output = '';
  let stopping = false;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (untilServing && !stopping && output.includes('provenant is serving')) {
      stopping = true;
      child.kill('SIGTERM');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(guard);
  assert.equal(code, 0, output);
  const paths = JSON.parse(readFileSync(file, 'utf8')) as string[];
  return new Set(
    paths.flatMap((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1] ?? []),
  );
}

/** A run started at its first call only, its result shared by the checks that read it. */
function once<T>(run: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= run());
}

const help = once(() => packagesLoaded('help', ['--help'], {}));
const serve = once(() =>
  packagesLoaded(
    'serve',
    ['serve', '--dev-anonymous'],
    {
      PROVENANT_DATA_DIR: join(dir, 'data'),
      PROVENANT_PORT: '0',
      PROVENANT_HOST: '127.0.0.1',
      PROVENANT_STORE: 'sqlite',
    },
    true,
  ),
);

describe('optional backends load only when configured', () => {
  const heavy = ['@eventstore/db-client', '@grpc/grpc-js', 'pg'];

  it('--help (every command module) loads neither the KurrentDB client nor pg', async () => {
    const loaded = await help();
    // The recorder sees the CommonJS packages the commands load (a check that it works).
    assert.ok(loaded.has('better-sqlite3'), [...loaded].join(' '));
    for (const name of heavy) assert.ok(!loaded.has(name), `${name} was loaded`);
  });

  it('a SQLite serve, up to listening, loads neither', async () => {
    const loaded = await serve();
    assert.ok(loaded.has('better-sqlite3'), [...loaded].join(' '));
    assert.ok(loaded.has('fastify'), [...loaded].join(' '));
    for (const name of heavy) assert.ok(!loaded.has(name), `${name} was loaded`);
  });
});

describe('sigstore loads at the first signature or verification, not at start', () => {
  const sigstore = (loaded: Set<string>): string[] =>
    [...loaded].filter((name) => name === 'sigstore' || name.startsWith('@sigstore/'));

  it('--help (every command module) loads no sigstore package', async () => {
    assert.deepEqual(sigstore(await help()), []);
  });

  it('a SQLite serve, up to listening (before any signature), loads none', async () => {
    assert.deepEqual(sigstore(await serve()), []);
  });

  it('signing an event loads @sigstore/core: the recorder sees a sigstore package once used', async () => {
    const key = join(dir, 'producer.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(key, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const event = join(dir, 'event.json');
    writeFileSync(
      event,
      JSON.stringify({ specversion: '1.0', id: '1', source: '/ci', type: 'dev.example.built' }),
    );
    const loaded = await packagesLoaded(
      'sign-event',
      ['sign-event', event, '--key', key, '--key-id', 'ci', '--out', join(dir, 'signed.json')],
      {},
    );
    assert.ok(loaded.has('@sigstore/core'), sigstore(loaded).join(' '));
  });
});
