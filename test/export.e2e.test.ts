// `provenant export` and `provenant verify-export` as a user runs them: on the
// configured store, with the signing key from $PROVENANT_SIGNING_KEY or
// --public-key; exit 0 intact, 1 tampered (the EXPORT_* code), 2 usage.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDomainService } from '../src/application/index.js';
import { getSQLiteEventStore } from '../src/eventStore/sqlite/index.js';
import { LocalKeySigner, writeSigningKeyPair } from '../src/provenance/signing/index.js';
import { issueLocally } from './support/localAttestations.js';
import { definePipeline, passingReceipts } from './support/pipeline.js';
import { runCli, type CliRun, runCliSync } from './support/cli.js';

const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
const dir = mkdtempSync(join(tmpdir(), 'provenant-export-cli-'));
let keys: ReturnType<typeof writeSigningKeyPair>;

const run = (args: string[], env: Record<string, string> = {}) =>
  runCliSync(args, 60_000, { PROVENANT_DATA_DIR: join(dir, 'data'), ...env });

/** `run`, without blocking the event loop, for runs started side by side. */
const runAsync = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runCli(args, 60_000, { PROVENANT_DATA_DIR: join(dir, 'data'), ...env });

before(async () => {
  keys = writeSigningKeyPair(join(dir, 'keys'));
  mkdirSync(join(dir, 'data'));
  const store = getSQLiteEventStore({ path: join(dir, 'data', 'provenant.db') });
  const service = createDomainService({ eventStore: store });
  const signer = LocalKeySigner.fromPem(readFileSync(keys.privateKeyPath));
  await definePipeline(service);
  for (const receipt of passingReceipts(UNIT)) await service.recordReceipt(receipt);
  await issueLocally(store, UNIT, { signer, kind: 'provenance' });
  await issueLocally(store, UNIT, { signer, kind: { vsaOf: 'release' } });
  await store.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('provenant export / verify-export', () => {
  it('exports with the key of $PROVENANT_SIGNING_KEY to a .tar.gz that verifies (exit 0)', () => {
    const out = join(dir, 'openssl.tar.gz');
    const exported = run(['export', UNIT, '--out', out, '--principal', 'auditor'], {
      PROVENANT_SIGNING_KEY: keys.privateKeyPath,
    });
    assert.equal(exported.status, 0, exported.stderr);
    assert.match(
      exported.stdout,
      /exported openssl\/3\.2\.1\/2\.el9\/x86_64\/rpm to .* \(archive\): \d+ events, \d+ definition events, 2 attestations/,
    );
    assert.doesNotMatch(exported.stderr, /warning/);
    const verified = run(['verify-export', out]);
    assert.equal(verified.status, 0, verified.stdout);
    assert.match(
      verified.stdout,
      /^ok: export of openssl\/3\.2\.1\/2\.el9\/x86_64\/rpm verified: .* 2 attestations/,
    );
    // Both count the same files: the manifest and those it lists.
    const listed = /the manifest and the (\d+) files it lists/;
    assert.equal(listed.exec(verified.stdout)?.[1], listed.exec(exported.stdout)?.[1]);
    assert.notEqual(listed.exec(exported.stdout), null, exported.stdout);
    const json = run(['verify-export', out, '--json']);
    const result = JSON.parse(json.stdout) as { ok: boolean; exportedBy: string };
    assert.equal(result.ok, true);
    assert.equal(result.exportedBy, 'auditor');
    // An export larger than --max-bytes is not read (into memory) past that size.
    const capped = run(['verify-export', out, '--max-bytes', '1KiB']);
    assert.equal(capped.status, 1, capped.stdout);
    assert.match(
      capped.stdout,
      /^INVALID: EXPORT_UNREADABLE: .* holds more than 1024 bytes uncompressed: more than this verifier reads \(--max-bytes raises the limit\)/,
    );
  });

  it('exports to a folder with --public-key; a tampered folder exits 1 with the code', () => {
    const out = join(dir, 'folder');
    const exported = run(['export', UNIT, '--out', out, '--public-key', keys.publicKeyPath]);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(run(['verify-export', out]).status, 0);
    appendFileSync(join(out, 'notes.txt'), 'hello');
    const tampered = run(['verify-export', out]);
    assert.equal(tampered.status, 1);
    assert.match(tampered.stdout, /^INVALID: EXPORT_EXTRA_FILE: notes\.txt is not listed/);
    const json = JSON.parse(run(['verify-export', out, '--json']).stdout) as {
      problems: { code: string }[];
    };
    assert.deepEqual(
      json.problems.map((p) => p.code),
      ['EXPORT_EXTRA_FILE'],
    );
  });

  it('warns when no key verifies the attestations', () => {
    const exported = run(['export', UNIT, '--out', join(dir, 'nokey')]);
    assert.equal(exported.status, 0);
    assert.match(exported.stderr, /warning: no public key [0-9a-f]{64} given/);
    const verified = run(['verify-export', join(dir, 'nokey')]);
    assert.equal(verified.status, 1);
    assert.match(verified.stdout, /EXPORT_KEY_MISSING/);
  });

  it('exits 2 on usage errors, an unknown unit, a non-empty target or a missing path; has --help', async () => {
    const cases: [string[], RegExp][] = [
      [['export', UNIT], /required option '--out/],
      [['export', 'nope/1/1/x86_64/rpm', '--out', join(dir, 'x')], /DOMAIN_UNIT_NOT_FOUND/],
      [['export', UNIT, '--out', join(dir, 'folder')], /EXPORT_TARGET_EXISTS/],
      [['verify-export', join(dir, 'missing')], /EXPORT_UNREADABLE/],
      [['verify-export'], /missing required argument/],
      [['verify-export', join(dir, 'folder'), '--max-bytes', '10MB'], /--max-bytes.*is invalid/],
    ];
    // The cases are independent runs: started side by side, checked in order.
    const runs = await Promise.all(cases.map(([args]) => runAsync(args)));
    for (const [i, [args, pattern]] of cases.entries()) {
      const res = runs[i]!;
      assert.equal(res.status, 2, args.join(' '));
      assert.match(res.stderr, pattern, args.join(' '));
      assert.doesNotMatch(res.stderr, /\n\s+at /);
    }
    const helps = [
      ['export', /--out <dir\|file\.tar\.gz>[\s\S]*PROVENANT_SIGNING_KEY[\s\S]*Exit codes:/],
      ['verify-export', /--json[\s\S]*Exit codes:[\s\S]*EXPORT_\* code/],
    ] as const;
    const helpRuns = await Promise.all(helps.map(([command]) => runAsync([command, '--help'])));
    for (const [i, [, pattern]] of helps.entries()) {
      const help = helpRuns[i]!;
      assert.equal(help.status, 0);
      assert.match(help.stdout, pattern);
    }
  });
});
