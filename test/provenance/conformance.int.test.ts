// Every case of the Sigstore conformance suite's bundle-verify assets
// (/work/shared/fixtures/sigstore-conformance, see its README) through the
// verifier in process, and a few through `provenant verify-bundle`: a folder
// whose name ends in `_fail` must be rejected, every other one must verify.
// The fixtures live beside the repository (`../shared/...`) and are never
// copied into it; when they are absent the test says it was skipped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  isBundleVerificationError,
  loadTrustedRoot,
  verifyBundle,
  type SignerPolicy,
} from '../../src/provenance/verify/index.js';
import { cliArgs as provenantArgs } from '../support/cli.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
// SIGSTORE_CONFORMANCE_FIXTURES points elsewhere (e.g. a checkout of the suite).
const fixtures =
  process.env.SIGSTORE_CONFORMANCE_FIXTURES ??
  resolve(repoRoot, '../shared/fixtures/sigstore-conformance');

// The suite's defaults when a case has no `identity` / `issuer` file (README).
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

interface Case {
  name: string;
  mustFail: boolean;
  bundle: string;
  artifact: string;
  key?: string;
  identity: string;
  issuer: string;
  trustedRoot?: string;
}

function loadCases(): Case[] {
  return readdirSync(fixtures, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = join(fixtures, entry.name);
      const file = (name: string): string | undefined =>
        existsSync(join(dir, name)) ? join(dir, name) : undefined;
      const text = (name: string, fallback: string): string => {
        const path = file(name);
        return path === undefined ? fallback : readFileSync(path, 'utf8').trim();
      };
      const key = file('key.pub');
      const trustedRoot = file('trusted_root.json');
      return {
        name: entry.name,
        mustFail: entry.name.endsWith('_fail'),
        bundle: join(dir, 'bundle.sigstore.json'),
        artifact: file('artifact') ?? join(fixtures, 'a.txt'),
        ...(key === undefined ? {} : { key }),
        identity: text('identity', DEFAULT_IDENTITY),
        issuer: text('issuer', DEFAULT_ISSUER),
        ...(trustedRoot === undefined ? {} : { trustedRoot }),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The verifier's verdict on a case: 'valid' or the error code. */
function verdict(c: Case): string {
  const policy: SignerPolicy =
    c.key !== undefined
      ? { publicKey: readFileSync(c.key) }
      : { certificateIdentity: c.identity, certificateIssuer: c.issuer };
  try {
    const trustedRoot = c.trustedRoot === undefined ? undefined : loadTrustedRoot(c.trustedRoot);
    verifyBundle(
      readFileSync(c.bundle),
      policy,
      { bytes: readFileSync(c.artifact) },
      trustedRoot === undefined ? {} : { trustedRoot },
    );
    return 'valid';
  } catch (error) {
    if (isBundleVerificationError(error)) return error.code;
    throw error;
  }
}

const cliArgs = (c: Case, artifact: string = c.artifact): string[] => [
  'verify-bundle',
  '--bundle',
  c.bundle,
  ...(c.key !== undefined
    ? ['--key', c.key]
    : ['--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer]),
  ...(c.trustedRoot === undefined ? [] : ['--trusted-root', c.trustedRoot]),
  artifact,
];

const runCli = (args: string[]) =>
  spawnSync(process.execPath, provenantArgs(...args), {
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('Sigstore conformance: bundle verification', () => {
  if (!existsSync(fixtures)) {
    it('runs the conformance cases', (t) => {
      t.skip(`fixtures absent: ${fixtures} does not exist (expected beside the repository)`);
    });
    return;
  }
  const cases = loadCases();

  it('finds the cases', () => {
    assert.ok(cases.length >= 30, `only ${cases.length} cases in ${fixtures}`);
    assert.ok(cases.some((c) => c.mustFail) && cases.some((c) => !c.mustFail));
  });

  for (const c of cases) {
    it(`${c.name}: ${c.mustFail ? 'rejected' : 'verifies'}`, () => {
      const result = verdict(c);
      if (c.mustFail) assert.notEqual(result, 'valid', `${c.name} was accepted`);
      else assert.equal(result, 'valid', `${c.name} was rejected: ${result}`);
    });
  }

  it('through the CLI: a certificate case, a key case, a digest argument, failing cases', () => {
    const byName = new Map(cases.map((c) => [c.name, c]));
    const get = (name: string): Case => {
      const c = byName.get(name);
      assert.ok(c, `case ${name} missing`);
      return c;
    };
    for (const name of ['happy-path-v0.3', 'managed-key-happy-path', 'rekor2-dsse-happy-path']) {
      const res = runCli(cliArgs(get(name)));
      assert.equal(res.status, 0, `${name}: ${res.stderr}`);
      assert.match(res.stdout, /^OK: /);
    }
    // FILE_OR_DIGEST as sha256:<hex>, for a DSSE case (the subject digest).
    const dsse = get('intoto-with-custom-trust-root');
    const statement = JSON.parse(
      Buffer.from(
        (JSON.parse(readFileSync(dsse.bundle, 'utf8')) as { dsseEnvelope: { payload: string } })
          .dsseEnvelope.payload,
        'base64',
      ).toString(),
    ) as { subject: { digest: { sha256: string } }[] };
    const digest = `sha256:${statement.subject[0]?.digest.sha256}`;
    assert.equal(runCli(cliArgs(dsse, digest)).status, 0);
    for (const [name, code] of [
      ['wrong-material_fail', 'VERIFY_SUBJECT_MISMATCH'],
      ['bundle-malformed-json_fail', 'VERIFY_BUNDLE_NOT_JSON'],
      ['managed-key-wrong-key_fail', 'VERIFY_TRUST_MATERIAL'],
    ] as const) {
      const res = runCli(cliArgs(get(name)));
      assert.equal(res.status, 1, name);
      assert.equal(res.stderr.trim().split('\n').length, 1, `one line: ${res.stderr}`);
      assert.match(res.stderr, new RegExp(`^provenant: verify-bundle: ${code}: `));
    }
    // A prefix of the expected identity must not match (the library would
    // treat a string as an unanchored regular expression).
    const happy = get('happy-path-v0.3');
    const mismatch = runCli(
      cliArgs({ ...happy, identity: 'https://github.com/sigstore-conformance' }),
    );
    assert.equal(mismatch.status, 1, mismatch.stderr);
    assert.match(mismatch.stderr, /VERIFY_IDENTITY_MISMATCH/);
  });
});
