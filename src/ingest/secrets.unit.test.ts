// Secrets in payloads: every kind recognised wherever it sits (value, member
// name, behind an escape), the JSON path and kind named, the value never echoed;
// look-alikes that are not secrets pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isProvenantError } from '../errors.js';
import { parseJsonSafely } from './jsonGuard.js';
import { DEFAULT_INGEST_LIMITS } from './limits.js';
import { SECRET_SAMPLES } from '../../test/support/secretSamples.js';
import { SECRET_PATTERNS, assertNoSecrets, secretKindOf, type SecretKind } from './secrets.js';

const parse = (text: string): unknown =>
  parseJsonSafely(Buffer.from(text), {
    maxDepth: DEFAULT_INGEST_LIMITS.maxDepth,
    maxInlineBinaryChars: DEFAULT_INGEST_LIMITS.maxInlineBinaryChars,
  });

function rejects(fn: () => unknown, kind: SecretKind, path: string, secret: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isProvenantError(error));
    assert.equal(error.code, 'INGEST_SECRET_DETECTED');
    assert.deepEqual(error.details, { path, kind });
    assert.ok(!error.message.includes(secret), 'the message never echoes the secret');
    assert.ok(!JSON.stringify(error.details).includes(secret));
    return true;
  });
}

describe('secrets in payloads', () => {
  it('knows every kind the issue names', () => {
    assert.deepEqual(
      Object.keys(SECRET_SAMPLES).sort(),
      SECRET_PATTERNS.map(([kind]) => kind).sort(),
    );
  });

  for (const [kind, secret] of Object.entries(SECRET_SAMPLES) as [SecretKind, string][]) {
    it(`refuses a ${kind} in a value, naming the path and kind only`, () => {
      assert.equal(secretKindOf(secret), kind);
      const body = JSON.stringify({ data: { notes: ['ok', `token: ${secret} end`] } });
      rejects(() => parse(body), kind, '/data/notes/1', secret);
    });
  }

  it('finds a secret behind a \\u escape or after an escaped newline', () => {
    const token = SECRET_SAMPLES['aws-access-key-id'];
    rejects(() => parse(`{"a":"\\u0041${token.slice(1)}"}`), 'aws-access-key-id', '/a', token);
    const gh = SECRET_SAMPLES['github-token'];
    rejects(() => parse(`{"a":"line\\n${gh}"}`), 'github-token', '/a', gh);
  });

  it('refuses a secret used as a member name, naming the object, not the name', () => {
    const gh = SECRET_SAMPLES['github-token'];
    rejects(() => parse(JSON.stringify({ x: { [gh]: 1 } })), 'github-token', '/x', gh);
  });

  it('prefixes the path of a batch element', () => {
    const key = SECRET_SAMPLES['private-key'];
    rejects(
      () => assertNoSecrets({ data: key }, undefined, undefined, '/3'),
      'private-key',
      '/3/data',
      key,
    );
  });

  it('lets look-alikes through: public keys, certificates, short prefixes, base64', () => {
    for (const text of [
      '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----',
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
      'ghp_short',
      'AKIA lowercase akiaiosfodnn7example',
      'eyJwYXlsb2FkVHlwZSI6Imh0dHBzOi8vY2xvdWRldmVudHMuaW8vdmVyaWZpYWJpbGl0eS9kc3NlL3YwLjEi',
      'sha256:' + 'ab'.repeat(32),
    ])
      assert.doesNotThrow(() => parse(JSON.stringify({ text })), text);
  });
});
