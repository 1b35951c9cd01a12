// `provenant keys generate` and `provenant verify-bundle` as child processes:
// files, modes, key id, refusal to overwrite, usage errors in one line, and a
// bundle signed with a generated key verified through the command line.
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalKeySigner, signDsse } from '../../src/provenance/signing/index.js';
import { runCliSync } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) => runCliSync(args);

describe('provenant keys generate and verify-bundle', () => {
  const out = join(dir, 'keys');

  it('writes signing-key.pem (0600, PKCS#8) and signing-key.pub.pem, and prints the key id', () => {
    const res = run(['keys', 'generate', '--out', out]);
    assert.equal(res.status, 0, res.stderr);
    const keyId = res.stdout.trim();
    assert.match(keyId, /^[0-9a-f]{64}$/);
    const privatePath = join(out, 'signing-key.pem');
    assert.equal(statSync(privatePath).mode & 0o777, 0o600);
    assert.match(readFileSync(privatePath, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    const publicPem = readFileSync(join(out, 'signing-key.pub.pem'), 'utf8');
    assert.match(publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
    const spki = createPublicKey(publicPem).export({ type: 'spki', format: 'der' });
    assert.equal(keyId, createHash('sha256').update(spki).digest('hex'));
  });

  it('refuses to overwrite without --force (exit 2, one line), replaces with it', () => {
    const before = readFileSync(join(out, 'signing-key.pem'), 'utf8');
    const refused = run(['keys', 'generate', '--out', out]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /^provenant: SIGN_KEY_EXISTS: .*--force/);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    assert.equal(readFileSync(join(out, 'signing-key.pem'), 'utf8'), before);
    const forced = run(['keys', 'generate', '--out', out, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.notEqual(readFileSync(join(out, 'signing-key.pem'), 'utf8'), before);
    assert.equal(statSync(join(out, 'signing-key.pem')).mode & 0o777, 0o600);
  });

  it('verifies a bundle signed with the generated key, and rejects a tampered one', async () => {
    const signer = LocalKeySigner.fromPem(readFileSync(join(out, 'signing-key.pem')));
    const payload = Buffer.from('{"hello":"world"}');
    const bundle = await signDsse(payload, 'application/json', signer);
    const bundlePath = join(dir, 'bundle.json');
    const artifactPath = join(dir, 'payload.json');
    writeFileSync(bundlePath, JSON.stringify(bundle));
    writeFileSync(artifactPath, payload);
    const key = join(out, 'signing-key.pub.pem');
    const ok = run(['verify-bundle', '--bundle', bundlePath, '--key', key, artifactPath]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`signed by key ${signer.keyId}`));
    const digest = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
    assert.equal(run(['verify-bundle', '--bundle', bundlePath, '--key', key, digest]).status, 0);

    bundle.dsseEnvelope!.payload = Buffer.from('{"hello":"there"}').toString('base64');
    writeFileSync(bundlePath, JSON.stringify(bundle));
    const bad = run(['verify-bundle', '--bundle', bundlePath, '--key', key, artifactPath]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^provenant: verify-bundle: VERIFY_SUBJECT_MISMATCH: /);
  });

  it('has --help, and reports usage errors in one line with exit 2', () => {
    for (const command of [['keys'], ['keys', 'generate'], ['verify-bundle']]) {
      const help = run([...command, '--help']);
      assert.equal(help.status, 0, command.join(' '));
      assert.match(help.stdout, new RegExp(`provenant ${command.join(' ')}`));
    }
    assert.match(run(['keys', 'generate', '--help']).stdout, /Exit codes:/);
    assert.match(run(['verify-bundle', '--help']).stdout, /--certificate-oidc-issuer/);
    for (const args of [
      ['verify-bundle', 'a.txt'],
      ['verify-bundle', '--bundle', 'b.json', 'a.txt'],
      ['verify-bundle', '--bundle', 'b.json', '--key', 'k', '--certificate-identity', 'x', 'a'],
      ['verify-bundle', '--bundle', join(dir, 'missing.json'), '--key', 'k.pem', 'a.txt'],
      ['keys', 'generate', '--nope'],
    ]) {
      const res = run(args);
      assert.equal(res.status, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
      assert.match(res.stderr, /^provenant: /);
    }
  });
});
