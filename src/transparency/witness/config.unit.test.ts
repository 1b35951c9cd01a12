// The witnesses from the environment: the single-witness variables as before,
// PROVENANT_CHECKPOINT_WITNESSES' entries after them, and what is refused.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig } from '../../config.js';
import { witnessName } from './config.js';

/** A cosignature/v1 vkey for `name`, made here from the spec. */
function vkey(name: string): string {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  const key = Buffer.concat([Buffer.from([0x04]), der.subarray(-32)]);
  const id = createHash('sha256').update(`${name}\n`).update(key).digest().subarray(0, 4);
  return `${name}+${id.toString('hex')}+${key.toString('base64')}`;
}

const A = vkey('w1.example/w1');
const A2 = vkey('w1.example/w1');
const B = vkey('w2.example');
const witnesses = (env: Record<string, string>) => loadConfig(env, '/tmp').transparency.witnesses;

describe('witness configuration', () => {
  it('reads the single-witness variables as before, then each listed witness', () => {
    assert.deepEqual(witnesses({}), []);
    assert.deepEqual(witnesses({ PROVENANT_CHECKPOINT_WITNESS_URL: 'https://copy.example/in' }), [
      { url: 'https://copy.example/in', protocol: 'post', keys: [] },
    ]);
    const list = `https://w1.example/tlog ${A} ${A2};\n  https://w2.example   ${B}\n\n`;
    assert.deepEqual(
      witnesses({
        PROVENANT_CHECKPOINT_WITNESS_URL: 'https://copy.example/in',
        PROVENANT_CHECKPOINT_WITNESSES: list,
      }),
      [
        { url: 'https://copy.example/in', protocol: 'post', keys: [] },
        { url: 'https://w1.example/tlog', protocol: 'tlog-witness', keys: [A, A2] },
        { url: 'https://w2.example', protocol: 'tlog-witness', keys: [B] },
      ],
    );
    assert.deepEqual(witnesses({ PROVENANT_CHECKPOINT_WITNESSES: `https://w2.example ${B}` }), [
      { url: 'https://w2.example', protocol: 'tlog-witness', keys: [B] },
    ]);
  });

  it('refuses an entry without a URL or a key, a bad key, and a URL or a key given twice', () => {
    const refused = (list: string, why: RegExp): void =>
      assert.throws(() => witnesses({ PROVENANT_CHECKPOINT_WITNESSES: list }), why);
    refused(`${A}`, /PROVENANT_CHECKPOINT_WITNESSES: each entry starts with an http\(s\) URL/);
    refused('https://w1.example', /PROVENANT_CHECKPOINT_WITNESSES: the witness .* has no key/);
    refused(`https://w1.example ${A.slice(0, -4)}`, /PROVENANT_CHECKPOINT_WITNESSES.*malformed/);
    refused(`https://w1.example ${A}; https://w1.example ${B}`, /configured twice/);
    refused(`https://w1.example ${A}; https://w2.example ${A}`, /given to two witnesses/);
    assert.throws(
      () =>
        witnesses({
          PROVENANT_CHECKPOINT_WITNESS_URL: 'https://w1.example',
          PROVENANT_CHECKPOINT_WITNESS_PROTOCOL: 'tlog-witness',
          PROVENANT_CHECKPOINT_WITNESS_KEY: A,
          PROVENANT_CHECKPOINT_WITNESSES: `https://w2.example ${A}`,
        }),
      /given to two witnesses/,
    );
  });

  it('refuses credentials in a witness URL (fetch refuses them), without echoing them', () => {
    const refusal = (env: Record<string, string>): string => {
      try {
        witnesses(env);
      } catch (error) {
        return (error as Error).message;
      }
      return assert.fail('accepted a witness URL with credentials');
    };
    const single = refusal({
      PROVENANT_CHECKPOINT_WITNESS_URL: 'https://op:s3cret@copy.example/in',
    });
    assert.match(
      single,
      /^PROVENANT_CHECKPOINT_WITNESS_URL: .*https:\/\/copy\.example\/in has credentials/,
    );
    const listed = refusal({ PROVENANT_CHECKPOINT_WITNESSES: `https://op:s3cret@w1.example ${A}` });
    assert.match(listed, /^PROVENANT_CHECKPOINT_WITNESSES: .*has credentials/);
    assert.doesNotMatch(`${single}\n${listed}`, /s3cret|op:/);
  });
});

describe('PROVENANT_CHECKPOINT_WITNESS_QUORUM', () => {
  const quorum = (env: Record<string, string>) =>
    loadConfig(env, '/tmp').transparency.witnessQuorum;
  const refused = (env: Record<string, string>, message: RegExp) =>
    assert.throws(
      () => quorum(env),
      (error: unknown) =>
        (error as { code?: string }).code === 'CONFIG_INVALID' &&
        message.test((error as Error).message),
    );
  // Two witnesses by name: w1.example/w1 (two keys) and w2.example.
  const list = `https://w1.example/tlog ${A} ${A2}; https://w2.example ${B}`;

  it('is off unless set, and counts witnesses by key name', () => {
    assert.equal(quorum({ PROVENANT_CHECKPOINT_WITNESSES: list }), undefined);
    assert.equal(
      quorum({ PROVENANT_CHECKPOINT_WITNESSES: list, PROVENANT_CHECKPOINT_WITNESS_QUORUM: '2' }),
      2,
    );
  });

  it('refuses a quorum beyond the witnesses, zero, a non-number, or no tlog-witness', () => {
    const set = (value: string) => ({
      PROVENANT_CHECKPOINT_WITNESSES: list,
      PROVENANT_CHECKPOINT_WITNESS_QUORUM: value,
    });
    refused(set('3'), /between 1 and 2/);
    refused(set('0'), /between 1 and 2/);
    refused(set('two'), /whole number/);
    refused(
      {
        PROVENANT_CHECKPOINT_WITNESS_URL: 'https://copy.example/in',
        PROVENANT_CHECKPOINT_WITNESS_QUORUM: '1',
      },
      /needs tlog-witnesses/,
    );
  });
});

describe('witness names (the metrics label)', () => {
  it('keeps origin and path, never userinfo, query or fragment', () => {
    assert.equal(witnessName('https://w1.example/tlog'), 'https://w1.example/tlog');
    assert.equal(
      witnessName('https://user:secret@w1.example:8443/tlog/?token=abc#frag'),
      'https://w1.example:8443/tlog/',
    );
    assert.equal(witnessName('https://w2.example'), 'https://w2.example');
    assert.equal(witnessName('https://w2.example/'), 'https://w2.example');
    assert.equal(witnessName('HTTPS://W3.Example:443/In'), 'https://w3.example/In');
    assert.equal(witnessName('not a url'), 'invalid-url');
  });
});
