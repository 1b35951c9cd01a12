// `provenant verify` checks the Merkle log inclusions an attestation names, as a
// child process against a Provenant on a loopback port, seen through a proxy
// that can lie the way a tampered store would: a valid VSA passes (with the
// trusted key, and with the store's own key, said so); a tampered proof, an
// edited event, a leaf that holds another event, a checkpoint signed by another
// key, and a log rewritten after the attestation each fail with their code; an
// attestation without a checkpoint is a note, or could-not-check with --log-key.
// The same checks run offline against an export (more in verifyExportLog.e2e.test.ts).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createAttestationService } from '../../src/application/attestations/index.js';
import { exportUnit } from '../../src/application/export/index.js';
import {
  MANIFEST_FILE,
  sha256Hex,
  type ExportManifest,
} from '../../src/application/export/format.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';
import { signCheckpointNow } from '../support/exportLog.js';
import { checkpointText, noteSigner, signNote } from '../../src/transparency/note.js';
import { createTransparencyService } from '../../src/transparency/service.js';
import { getSQLiteTreeStore } from '../../src/transparency/sqlite/treeStore.js';
import { TreeBuilder } from '../../src/transparency/treeBuilder.js';
import { UNIT, fixture, passRelease, signingOf, type Fixture } from '../support/attestations.js';
import { runCli, type CliRun } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-verify-log-'));
const ORIGIN = 'verify.example/log';
const NO_LOG = 'zlib/1.3/1.el9/x86_64/rpm';

interface JsonReport {
  result: string;
  checks: { name: string; outcome: string; code?: string }[];
  notes?: string[];
}

const run = (args: string[]): Promise<CliRun> => runCli(['verify', ...args]);
const report = (r: CliRun): JsonReport => JSON.parse(r.stdout) as JsonReport;
/** Each log-* or export check's outcome, and its code when it did not pass. */
const logChecks = (r: CliRun): string[] =>
  report(r)
    .checks.filter((c) => c.name.startsWith('log-') || c.name === 'export')
    .map((c) => `${c.name} ${c.outcome}${c.code === undefined ? '' : ` ${c.code}`}`);

/** Rewrites the store's answers: path (with query) and body in, body out. */
type Lie = (path: string, body: string) => string;

describe('provenant verify and the Merkle log', () => {
  let f: Fixture;
  let app: FastifyInstance;
  let proxy: Server;
  let url = '';
  let lie: Lie = (_path, body) => body;
  const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const stranger = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const logKey = join(dir, 'log-key.json');
  const strangerKey = join(dir, 'stranger-key.txt');
  const tree = getSQLiteTreeStore({ path: ':memory:' });
  const transparency = createTransparencyService({
    tree,
    origin: ORIGIN,
    verifierKey: signer.verifierKey,
  });
  let builder: TreeBuilder;
  const checkpointNow = (): Promise<void> =>
    signCheckpointNow(builder, { eventStore: f.store, tree, signer, origin: ORIGIN });

  before(async () => {
    f = await fixture();
    builder = await TreeBuilder.open(tree);
    const attestations = createAttestationService({
      eventStore: f.store,
      signing: signingOf(f.pair),
      transparency,
    });
    app = await buildApp({
      auth: anonymousAuth(),
      store: f.store,
      domain: f.domain,
      attestations,
      transparency,
      storeDescription: 'sqlite :memory:',
    });
    const upstream = await app.listen({ host: '127.0.0.1', port: 0 });
    proxy = createServer((request, response) => {
      const path = request.url ?? '/';
      void fetch(`${upstream}${path}`, {
        headers: { accept: request.headers.accept ?? '*/*' },
      }).then(async (answer) => {
        const body = await answer.text();
        response.writeHead(answer.status, {
          'content-type': answer.headers.get('content-type') ?? 'text/plain',
        });
        response.end(answer.ok ? lie(path, body) : body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;

    // A VSA issued under a checkpoint; the log grows and is signed again after it.
    await passRelease(f.domain);
    await checkpointNow();
    await attestations.issueAttestation(UNIT, { kind: 'vsa', stageId: 'release' });
    await checkpointNow();
    // A VSA issued where the Merkle log was off: it names no checkpoint.
    await passRelease(f.domain, NO_LOG);
    await f.attestations.issueAttestation(NO_LOG, { kind: 'vsa', stageId: 'release' });
    await checkpointNow();

    writeFileSync(logKey, await (await fetch(`${upstream}/v1/log/key`)).text());
    writeFileSync(strangerKey, `${stranger.verifierKey}\n`);
    writeFileSync(join(dir, 'pub.pem'), f.pair.publicKeyPem);
  });
  after(async () => {
    await new Promise((resolve) => proxy.close(resolve));
    await app.close();
    await tree.close();
    await f.store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const gate = (unit: string, ...more: string[]) =>
    run([
      '--unit',
      unit,
      '--stage',
      'release',
      '--key',
      join(dir, 'pub.pem'),
      '--store',
      url,
      '--json',
      ...more,
    ]);
  const VALID = ['log-checkpoint passed', 'log-inclusion passed', 'log-consistency passed'];

  it('passes the inclusions of a valid VSA, with the trusted key or the store’s own (said so)', async () => {
    lie = (_path, body) => body;
    const trusted = await gate(UNIT, '--log-key', logKey);
    assert.equal(trusted.status, 0, trusted.stdout + trusted.stderr);
    assert.deepEqual(logChecks(trusted), VALID);
    assert.ok(!(report(trusted).notes ?? []).some((n) => /taken from the store/.test(n)));

    const tofu = await run([
      '--unit',
      UNIT,
      '--stage',
      'release',
      '--key',
      join(dir, 'pub.pem'),
      '--store',
      url,
    ]);
    assert.equal(tofu.status, 0, tofu.stdout + tofu.stderr);
    assert.match(tofu.stdout, /ok {3}log-inclusion: 2 receipt\(s\) included under the checkpoint/);
    assert.match(tofu.stdout, /served by the store being checked \(trust on first use/);
    assert.match(tofu.stdout, /note: the log key was taken from the store being checked/);
  });

  it('fails a checkpoint signed by another key', async () => {
    const res = await gate(UNIT, '--log-key', strangerKey);
    assert.equal(res.status, 1, res.stdout + res.stderr);
    assert.deepEqual(logChecks(res), ['log-checkpoint failed VERIFY_LOG_CHECKPOINT_INVALID']);
  });

  it('fails a tampered proof, an edited event and a leaf holding another event', async () => {
    lie = (path, body) => {
      if (!path.startsWith('/v1/log/proof/inclusion')) return body;
      const answer = JSON.parse(body) as { proof: string[] };
      const first = Buffer.from(answer.proof[0] ?? '', 'base64');
      first[0] = (first[0] ?? 0) ^ 1;
      answer.proof[0] = first.toString('base64');
      return JSON.stringify(answer);
    };
    const proof = await gate(UNIT, '--log-key', logKey);
    assert.equal(proof.status, 1, proof.stdout + proof.stderr);
    assert.deepEqual(logChecks(proof), [
      'log-checkpoint passed',
      'log-inclusion failed VERIFY_LOG_NOT_INCLUDED',
      'log-consistency passed',
    ]);

    // The stored event as served differs in a field outside its content digest.
    lie = (path, body) =>
      path.startsWith('/v1/events?')
        ? body.replace('"metadata":{', '"metadata":{"editedBy":"mallory",')
        : body;
    const edited = await gate(UNIT, '--log-key', logKey);
    assert.equal(edited.status, 1, edited.stdout + edited.stderr);
    assert.deepEqual(logChecks(edited), [
      'log-checkpoint passed',
      'log-inclusion failed VERIFY_LOG_NOT_INCLUDED',
      'log-consistency passed',
    ]);

    // The attestation's record names leaf 0 (a definition event) for its receipts.
    lie = (path, body) =>
      path.startsWith('/v1/units/') ? body.replace(/"leafIndex":\d+/g, '"leafIndex":0') : body;
    const wrong = await gate(UNIT, '--log-key', logKey);
    assert.equal(wrong.status, 1, wrong.stdout + wrong.stderr);
    assert.deepEqual(logChecks(wrong), [
      'log-checkpoint passed',
      'log-inclusion failed VERIFY_LOG_WRONG_LEAF',
      'log-consistency passed',
    ]);
  });

  it('fails when the log was rewritten after the attestation (re-signed with the same key)', async () => {
    const latest = await tree.latestCheckpoint();
    assert.ok(latest);
    const rewritten = signNote(
      checkpointText({ origin: ORIGIN, size: latest.size, root: Buffer.alloc(32, 7) }),
      signer,
    );
    lie = (path, body) => (path === '/v1/log/checkpoint' ? rewritten : body);
    const res = await gate(UNIT, '--log-key', logKey);
    assert.equal(res.status, 1, res.stdout + res.stderr);
    assert.deepEqual(logChecks(res), [
      'log-checkpoint passed',
      'log-inclusion passed',
      'log-consistency failed VERIFY_LOG_INCONSISTENT',
    ]);
  });

  it('an attestation naming no checkpoint is a note, or could-not-check with --log-key', async () => {
    lie = (_path, body) => body;
    const note = await gate(NO_LOG);
    assert.equal(note.status, 0, note.stdout + note.stderr);
    assert.deepEqual(logChecks(note), []);
    assert.ok(
      (report(note).notes ?? []).some((n) => /names no checkpoint/.test(n)),
      JSON.stringify(report(note).notes),
    );
    const demanded = await gate(NO_LOG, '--log-key', logKey);
    assert.equal(demanded.status, 3, demanded.stdout + demanded.stderr);
    assert.deepEqual(logChecks(demanded), [
      'log-checkpoint could-not-check VERIFY_LOG_NOT_RECORDED',
    ]);
  });

  it('checks the same offline against an export, and fails an edited one', async () => {
    const out = join(dir, 'export');
    await exportUnit(f.store, UNIT, { out, publicKeys: [f.pair.publicKeyPem], transparency });
    const offline = (...more: string[]) =>
      run([
        '--unit',
        UNIT,
        '--stage',
        'release',
        '--key',
        join(dir, 'pub.pem'),
        '--export',
        out,
        '--json',
        ...more,
      ]);
    const ok = await offline('--log-key', logKey);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.deepEqual(logChecks(ok), ['export passed', ...VALID]);
    const stranger = await offline('--log-key', strangerKey);
    assert.equal(stranger.status, 1);
    assert.deepEqual(logChecks(stranger), [
      'export passed',
      'log-checkpoint failed VERIFY_LOG_CHECKPOINT_INVALID',
    ]);

    // A tamperer edits the build receipt's metadata and rewrites the manifest to match.
    const eventsPath = join(out, 'events.jsonl');
    const lines = readFileSync(eventsPath, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"type":"ReceiptRecorded.v1"'));
    const event = JSON.parse(lines[at] as string) as { metadata: Record<string, unknown> };
    event.metadata['principal'] = 'mallory';
    lines[at] = JSON.stringify(event);
    writeFileSync(eventsPath, lines.join('\n'));
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST_FILE), 'utf8')) as ExportManifest;
    for (const file of manifest.files) {
      const bytes = readFileSync(join(out, file.path));
      file.sha256 = sha256Hex(bytes);
      file.bytes = bytes.length;
    }
    writeFileSync(join(out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    const bad = await offline('--log-key', logKey);
    assert.equal(bad.status, 1, bad.stdout + bad.stderr);
    assert.deepEqual(logChecks(bad), [
      'export failed EXPORT_NOT_IN_LOG',
      'log-checkpoint passed',
      'log-inclusion failed VERIFY_LOG_NOT_INCLUDED',
      'log-consistency passed',
    ]);
  });
});
