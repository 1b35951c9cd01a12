// `npm run demo`: Provenant end to end against a fresh embedded store in a temp
// folder, driven over HTTP the way a pipeline would. Defines gates and stages,
// plays two units through a pipeline (one passes; one fails its security gate,
// is fixed by a new scan and passes), issues SLSA provenance and a release VSA
// for each, verifies them as release tooling would, exports one unit and
// verifies the export offline (and shows a tampered copy being caught).
// Prints numbered steps with ✓/✗; exits 1 if any step fails.
//
// Attestations are issued in-process (provenance builders + signDsse, then
// AttestationIssued.v1 appended through the port) until the issuing API
// (POST /v1/units/:key/attestations) is part of this tree.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract as extractTar } from 'tar';
import { verifyExport, MANIFEST_FILE } from '../src/application/export/index.js';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import {
  SLSA_PROVENANCE_PREDICATE_TYPE,
  SLSA_VSA_PREDICATE_TYPE,
  parseStatement,
} from '../src/provenance/index.js';
import { LocalKeySigner, writeSigningKeyPair } from '../src/provenance/signing/index.js';
import { createStaticToken } from '../src/security/index.js';
import { verifyBundle } from '../src/provenance/verify/index.js';

const OK = '\u2713';
const FAIL = '\u2717';
let stepNo = 0;
let failed = 0;

/** Runs one numbered step; prints ✓ with its detail, or ✗ with the error. */
async function step<T>(
  title: string,
  run: () => Promise<T>,
  detail?: (value: T) => string,
): Promise<T | undefined> {
  stepNo++;
  console.log(`\n${stepNo}. ${title}`);
  try {
    const value = await run();
    console.log(`   ${OK} ${detail?.(value) ?? 'done'}`);
    return value;
  } catch (error) {
    failed++;
    console.log(`   ${FAIL} ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

const check = (condition: boolean, message: string): void => {
  if (!condition) throw new Error(message);
};

const OPENSSL = 'openssl/3.2.1/2.el9/x86_64/rpm';
const ZLIB = 'zlib/1.3.1/1.el9/x86_64/rpm';
const digestOf = (seed: string): string =>
  Buffer.from(seed.padEnd(32, '.').slice(0, 32)).toString('hex');
const rpmDigest = (unit: string): string => digestOf(`${unit}#rpm`);

let server: RunningServer | undefined;
const dir = mkdtempSync(join(tmpdir(), 'provenant-demo-'));

// Who calls (docs/security.md): an admin defines gates and exports; the CI's
// producer token may only record receipts from its own source. Configuration
// keeps only the tokens' SHA-256, as `provenant tokens create` prints it.
const adminToken = createStaticToken();
const ciToken = createStaticToken();
const authFile = join(dir, 'principals.json');
writeFileSync(
  authFile,
  JSON.stringify({
    tokens: [
      { name: 'release-admin', sha256: adminToken.sha256, roles: ['admin'] },
      {
        name: 'ci-el9',
        sha256: ciToken.sha256,
        roles: ['producer'],
        scope: { sources: ['https://ci.example.com/*'], types: ['dev.provenant.receipt.v1'] },
      },
    ],
  }),
);
const asAdmin = { authorization: `Bearer ${adminToken.token}` };

async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const response = await fetch(`${server?.url ?? ''}${path}`, {
    method,
    headers: {
      ...asAdmin,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

let eventCounter = 0;
/** Sends one receipt as a CloudEvent (structured mode), as a CI job would. */
async function receipt(
  unit: string,
  action: string,
  multipass: boolean,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const response = await fetch(`${server?.url ?? ''}/v1/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/cloudevents+json',
      authorization: `Bearer ${ciToken.token}`,
    },
    body: JSON.stringify({
      specversion: '1.0',
      id: `job-${++eventCounter}`,
      source: 'https://ci.example.com/pipelines/el9',
      type: 'dev.provenant.receipt.v1',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { unit, action, multipass, producer: 'https://ci.example.com', ...extra },
    }),
  });
  if (response.status !== 201)
    throw new Error(`receipt ${action}: ${response.status} ${await response.text()}`);
}

interface AttestationSummary {
  attestationId: string;
  kind: string;
  stage?: { stageId: string; passed: boolean };
}
const attestationsOf = async (unit: string): Promise<AttestationSummary[]> =>
  (
    (await api('GET', `/v1/units/${encodeURIComponent(unit)}/attestations`)) as {
      attestations: AttestationSummary[];
    }
  ).attestations;
/** The unit's latest release VSA, once the store has issued it. */
const releaseVsa = async (unit: string): Promise<AttestationSummary | undefined> =>
  (await attestationsOf(unit)).findLast((a) => a.kind === 'vsa' && a.stage?.stageId === 'release');

interface StatusView {
  stages: { stageId: string; current: { passed?: boolean; verdict?: string } | null }[];
  gates: { gateId: string; current: { verdict: string } | null }[];
}
const status = async (unit: string): Promise<StatusView> =>
  (await api('GET', `/v1/units/${encodeURIComponent(unit)}`)) as StatusView;
const stagePassed = (view: StatusView, stageId: string): boolean =>
  view.stages.find((s) => s.stageId === stageId)?.current?.passed === true;
const gateVerdict = (view: StatusView, gateId: string): string =>
  view.gates.find((g) => g.gateId === gateId)?.current?.verdict ?? 'none';

async function pipeline(unit: string, sastPasses: boolean): Promise<void> {
  const [name = '', version = ''] = unit.split('/');
  await receipt(unit, 'build', true, {
    correlationId: `${name}-run-1`,
    artifacts: [
      {
        name: `${name}-${version}.rpm`,
        uri: `https://repo.example.com/el9/${name}-${version}.rpm`,
        digest: { sha256: rpmDigest(unit) },
      },
    ],
    custom: {
      source: {
        repository: `https://git.example.com/${name}.git`,
        commit: digestOf(name).slice(0, 40),
        ref: 'refs/heads/main',
      },
    },
  });
  await receipt(unit, 'unit-test', true, {
    correlationId: `${name}-run-1`,
    results: { passed: 412, failed: 0 },
  });
  await receipt(unit, 'sast', sastPasses, {
    correlationId: `${name}-run-1`,
    results: { findings: sastPasses ? 0 : 2 },
  });
}

async function main(): Promise<void> {
  // The store's signing key, as an operator would make it: provenant keys generate.
  const keys = writeSigningKeyPair(join(dir, 'keys'));
  const signer = LocalKeySigner.fromPem(readFileSync(keys.privateKeyPath));
  const publicKey = readFileSync(keys.publicKeyPath, 'utf8');

  server = await step(
    'Start Provenant on a fresh embedded store',
    () =>
      startServer(
        loadConfig({
          PROVENANT_DATA_DIR: join(dir, 'data'),
          PROVENANT_HOST: '127.0.0.1',
          PROVENANT_PORT: '0',
          PROVENANT_LOG_LEVEL: 'silent',
          PROVENANT_SIGNING_KEY: keys.privateKeyPath,
          PROVENANT_AUTH_FILE: authFile,
        }),
        'demo',
      ),
    (s) => `${s.url}, data in ${dir}, signing key ${signer.keyId.slice(0, 16)}…`,
  );
  if (server === undefined) return;

  await step(
    'Define gates build, tests, security and stages qa → release',
    async () => {
      await api('PUT', '/v1/gates/build', { requiredActions: ['build'] });
      await api('PUT', '/v1/gates/tests', { requiredActions: ['unit-test'] });
      await api('PUT', '/v1/gates/security', {
        requiredActions: ['sast'],
        description: 'static analysis must pass',
      });
      await api('PUT', '/v1/stages/qa', { gates: ['build', 'tests'] });
      await api('PUT', '/v1/stages/release', { gates: ['security'], prerequisites: ['qa'] });
    },
    () => '3 gates, 2 stages',
  );

  await step(
    `Pipeline for ${OPENSSL}: build, unit-test, sast all pass`,
    async () => {
      await pipeline(OPENSSL, true);
      const view = await status(OPENSSL);
      check(
        stagePassed(view, 'qa') && stagePassed(view, 'release'),
        'qa and release should have passed',
      );
    },
    () => 'qa passed, release passed',
  );

  await step(
    `Pipeline for ${ZLIB}: sast fails (multipass false)`,
    async () => {
      await pipeline(ZLIB, false);
      const view = await status(ZLIB);
      check(
        gateVerdict(view, 'security') === 'failed',
        `security gate is ${gateVerdict(view, 'security')}`,
      );
      check(
        stagePassed(view, 'qa') && !stagePassed(view, 'release'),
        'qa should pass, release should not',
      );
    },
    () => 'security gate failed, release blocked (qa passed)',
  );

  await step(
    `Fix ${ZLIB}: a new sast receipt passes`,
    async () => {
      await receipt(ZLIB, 'sast', true, { correlationId: 'zlib-run-2', results: { findings: 0 } });
      const view = await status(ZLIB);
      check(
        gateVerdict(view, 'security') === 'passed',
        `security gate is ${gateVerdict(view, 'security')}`,
      );
      check(stagePassed(view, 'release'), 'release should have passed');
    },
    () => 'security gate passed, release passed',
  );

  await step(
    'Issue SLSA provenance for both units (POST /v1/units/:key/attestations); the store issued a VSA by itself when each unit passed a stage',
    async () => {
      for (const unit of [OPENSSL, ZLIB])
        await api('POST', `/v1/units/${encodeURIComponent(unit)}/attestations`, {
          kind: 'provenance',
        });
      // VSAs come from the attestor, which follows the log: wait until both are there.
      for (let tries = 0; ; tries++) {
        const vsas = await Promise.all([OPENSSL, ZLIB].map((unit) => releaseVsa(unit)));
        if (vsas.every((v) => v !== undefined))
          return (await Promise.all([OPENSSL, ZLIB].map(attestationsOf))).flat().length;
        check(tries < 100, 'the release VSAs did not appear within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    (n) =>
      `${n} attestations recorded as AttestationIssued.v1 (provenance, and a VSA per passed stage), signed with the store's key`,
  );

  await step(
    'Release tooling: fetch each attestation over HTTP and verify it with the public key, offline',
    async () => {
      const lines: string[] = [];
      for (const unit of [OPENSSL, ZLIB]) {
        for (const summary of await attestationsOf(unit)) {
          const bundle = await api('GET', `/v1/attestations/${summary.attestationId}`);
          const verified = verifyBundle(bundle, { publicKey }, { sha256: rpmDigest(unit) });
          const statement = parseStatement(JSON.parse(verified.payload?.toString('utf8') ?? '{}'));
          if (summary.kind === 'vsa') {
            check(statement.predicateType === SLSA_VSA_PREDICATE_TYPE, 'not a VSA');
            const predicate = statement.predicate as {
              verificationResult: string;
              verifiedLevels: string[];
            };
            check(
              predicate.verificationResult === 'PASSED',
              `VSA says ${predicate.verificationResult}`,
            );
            lines.push(
              `${OK} ${unit}: VSA ${predicate.verifiedLevels.join(', ')} PASSED, signed by ${verified.signer.kind === 'key' ? verified.signer.keyId.slice(0, 16) : '?'}…`,
            );
          } else {
            check(
              statement.predicateType === SLSA_PROVENANCE_PREDICATE_TYPE,
              'not SLSA provenance',
            );
            lines.push(`${OK} ${unit}: SLSA provenance verifies against the rpm's sha256`);
          }
        }
      }
      return lines;
    },
    (lines) => `${lines.length} attestations verified\n${lines.map((l) => `     ${l}`).join('\n')}`,
  );

  await step(
    'Release gate (POST /v1/verify): the release VSA, under the current definitions, with its evidence',
    async () => {
      const lines: string[] = [];
      for (const unit of [OPENSSL, ZLIB]) {
        const vsa = await releaseVsa(unit);
        const bundle = await api('GET', `/v1/attestations/${vsa?.attestationId ?? ''}`);
        const report = (await api('POST', '/v1/verify', {
          bundle,
          key: publicKey,
          expected: { kind: 'vsa', unit, stageId: 'release' },
        })) as { result: string; checks: { ok: boolean }[] };
        check(report.result === 'valid', `${unit}: the release gate says ${report.result}`);
        lines.push(`${OK} ${unit}: ${report.checks.length} checks, all passed: ship it`);
      }
      return lines;
    },
    (lines) => `both units may ship\n${lines.map((l) => `     ${l}`).join('\n')}`,
  );

  const archive = join(dir, 'zlib.export.tar.gz');
  await step(
    `Export ${ZLIB} (GET /v1/units/:key/export)`,
    async () => {
      const response = await fetch(
        `${server?.url ?? ''}/v1/units/${encodeURIComponent(ZLIB)}/export`,
        { headers: asAdmin },
      );
      check(response.status === 200, `export: ${response.status}`);
      writeFileSync(archive, Buffer.from(await response.arrayBuffer()));
      return response.headers.get('x-provenant-manifest-sha256') ?? '?';
    },
    (digest) => `${archive} (manifest sha256 ${digest.slice(0, 16)}…, recorded as UnitExported.v1)`,
  );

  await step(
    'Verify the export offline (provenant verify-export)',
    async () => {
      const result = await verifyExport(archive);
      check(result.ok, `${result.problems[0]?.code ?? ''}: ${result.problems[0]?.message ?? ''}`);
      return result;
    },
    (r) =>
      `intact: ${r.checked.files} files, ${r.checked.events} events (digests and chain), ${r.checked.definitions} definition events, ${r.checked.attestations} attestations verified, VSA policy recomputed`,
  );

  await step(
    'Tamper with a copy (edit a receipt, rewrite the manifest) and verify again',
    async () => {
      const folder = join(dir, 'tampered');
      mkdirSync(folder);
      await extractTar({ file: archive, cwd: folder });
      const events = join(folder, 'events.jsonl');
      writeFileSync(events, readFileSync(events, 'utf8').replace('"findings":2', '"findings":0'));
      const manifestPath = join(folder, MANIFEST_FILE);
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
        files: { path: string; sha256: string; bytes: number }[];
      };
      for (const file of manifest.files) {
        const bytes = readFileSync(join(folder, file.path));
        file.sha256 = createHash('sha256').update(bytes).digest('hex');
        file.bytes = bytes.length;
      }
      writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
      const result = await verifyExport(folder);
      check(
        !result.ok && result.problems[0]?.code === 'EXPORT_CONTENT_DIGEST_MISMATCH',
        `expected EXPORT_CONTENT_DIGEST_MISMATCH, got ${result.problems[0]?.code ?? 'ok'}`,
      );
      return result.problems[0]?.message ?? '';
    },
    (message) => `caught: EXPORT_CONTENT_DIGEST_MISMATCH (${message})`,
  );
}

try {
  await main();
} catch (error) {
  failed++;
  console.log(`${FAIL} ${String(error)}`);
} finally {
  await server?.shutdown('demo done');
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  failed === 0 ? `\n${OK} demo complete: every step passed` : `\n${FAIL} ${failed} step(s) failed`,
);
process.exitCode = failed === 0 ? 0 : 1;
