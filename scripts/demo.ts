// `npm run demo`: Provenant end to end against a fresh embedded store in a temp
// folder, driven over HTTP the way a pipeline would. Defines gates and stages,
// plays two units through a pipeline (one passes; one fails its security gate,
// is fixed by a new scan and passes), issues SLSA provenance and a release VSA
// for each, verifies them as release tooling would, exports one unit and
// verifies the export offline (and shows a tampered copy being caught).
// Prints numbered steps with ✓/✗; exits 1 if any step fails.
//
// Provenance is issued through POST /v1/units/:key/attestations; the store issues
// a VSA by itself when a unit passes a stage.
//
// The steps' runner is in scripts/demoSteps.ts; the callers (an admin and a CI
// job), their tokens and requests in scripts/demoClient.ts.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
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
import { verifyBundle } from '../src/provenance/verify/index.js';
import {
  OPENSSL,
  ZLIB,
  demoClient,
  gateVerdict,
  rpmDigest,
  stagePassed,
  writePrincipals,
} from './demoClient.js';
import { FAIL, OK, check, stepRunner } from './demoSteps.js';

const USAGE = `usage: npm run demo [-- --help]

  Plays Provenant end to end on a fresh embedded store in a temp folder (deleted
  at the end), over HTTP on a loopback port: defines gates and stages, records two
  units' pipelines, issues and verifies SLSA provenance and VSAs, exports a unit
  and verifies the export offline, and shows a tampered copy being caught.
  Prints numbered steps with ✓/✗; exits 1 if any step fails.`;

const { values: options } = (() => {
  try {
    return parseArgs({ options: { help: { type: 'boolean', short: 'h', default: false } } });
  } catch (error) {
    // Unknown options or arguments: say which, not a stack trace.
    console.error(`${error instanceof Error ? error.message : String(error)}\nSee --help.`);
    process.exit(2);
  }
})();
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}

const { step, fail, failed } = stepRunner();

let server: RunningServer | undefined;
const dir = mkdtempSync(join(tmpdir(), 'provenant-demo-'));

// Who calls (docs/security.md): an admin defines gates and exports; the CI's
// producer token may only record receipts from its own source.
const principals = writePrincipals(dir);

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
          PROVENANT_AUTH_FILE: principals.authFile,
        }),
        'demo',
      ),
    (s) => `${s.url}, data in ${dir}, signing key ${signer.keyId.slice(0, 16)}…`,
  );
  if (server === undefined) return;
  const { api, receipt, attestationsOf, releaseVsa, status, pipeline } = demoClient(
    server.url,
    principals,
  );

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
    'Release gate from the rpm alone: its sha256 finds the release VSA (GET /v1/attestations?digest=), POST /v1/verify checks it under the current definitions, with its evidence',
    async () => {
      const lines: string[] = [];
      for (const unit of [OPENSSL, ZLIB]) {
        const issued = await releaseVsa(unit);
        const query = new URLSearchParams({
          digest: `sha256:${rpmDigest(unit)}`,
          kind: 'vsa',
          stage: 'release',
          minPosition: issued?.position ?? '0',
        });
        const found = (await api('GET', `/v1/attestations?${query.toString()}`)) as {
          items: { attestationId: string; unit: string }[];
        };
        const vsa = found.items[0];
        check(
          vsa?.attestationId === issued?.attestationId && vsa?.unit === unit,
          `${unit}: the digest found ${vsa?.attestationId ?? 'nothing'}, not its release VSA`,
        );
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
        { headers: principals.asAdmin },
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
  fail(error);
} finally {
  await server?.shutdown('demo done');
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  failed() === 0
    ? `\n${OK} demo complete: every step passed`
    : `\n${FAIL} ${failed()} step(s) failed`,
);
process.exitCode = failed() === 0 ? 0 : 1;
