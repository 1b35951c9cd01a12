// Signed notes against golang.org/x/mod/sumdb/note's published example, and
// checkpoints: round trip, malformed text, unknown keys and bad signatures.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { GO_NOTE } from '../../test/support/merkleVectors.js';
import { leafHash } from './merkle.js';
import {
  checkpointText,
  noteSigner,
  openCheckpoint,
  openNote,
  parseVerifierKey,
  privateKeyFromSeed,
  signNote,
} from './note.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe('C2SP signed notes', () => {
  const seed = Buffer.from(GO_NOTE.privateKey.split('+').slice(4).join('+'), 'base64').subarray(1);
  const signer = noteSigner('PeterNeumann', privateKeyFromSeed(seed));

  it('signs the Go example byte for byte and derives its verifier key', () => {
    assert.equal(signer.verifierKey, GO_NOTE.verifierKey);
    assert.equal(signNote(GO_NOTE.text, signer), GO_NOTE.note);
  });

  it('opens the Go example with its verifier key, and refuses an edited text', () => {
    const verifier = parseVerifierKey(GO_NOTE.verifierKey);
    assert.equal(openNote(GO_NOTE.note, [verifier]), GO_NOTE.text);
    assert.equal(
      code(() => openNote(GO_NOTE.note.replace('cryptography', 'cryptographY'), [verifier])),
      'TLOG_BAD_SIGNATURE',
    );
  });

  it('says when no signature is by a known key', () => {
    const other = noteSigner('PeterNeumann', generateKeyPairSync('ed25519').privateKey);
    assert.equal(
      code(() => openNote(GO_NOTE.note, [parseVerifierKey(other.verifierKey)])),
      'TLOG_UNKNOWN_KEY',
    );
  });

  it('refuses malformed notes and keys with their own codes', () => {
    const verifier = parseVerifierKey(GO_NOTE.verifierKey);
    for (const bad of ['', 'no newline', 'text\n', 'text\n\nnot a signature\n', 'a\n\n— x !!\n'])
      assert.equal(
        code(() => openNote(bad, [verifier])),
        'TLOG_MALFORMED_NOTE',
        bad,
      );
    for (const bad of ['', 'name', 'name+zz+AAAA', GO_NOTE.verifierKey.replace('c74f', 'c74e')])
      assert.equal(
        code(() => parseVerifierKey(bad)),
        'TLOG_BAD_KEY',
        bad,
      );
  });
});

describe('checkpoints', () => {
  const signer = noteSigner('example.com/log', generateKeyPairSync('ed25519').privateKey);
  const verifier = parseVerifierKey(signer.verifierKey);
  const root = leafHash('x');

  it('round-trips origin, size and root', () => {
    const note = signNote(checkpointText({ origin: 'example.com/log', size: 42, root }), signer);
    assert.match(note, /^example\.com\/log\n42\n[A-Za-z0-9+/]{43}=\n\n— example\.com\/log /);
    const parsed = openCheckpoint(note, [verifier]);
    assert.equal(parsed.size, 42);
    assert.ok(parsed.root.equals(root));
  });

  it('refuses a bad size or root', () => {
    for (const text of ['o\n-1\nAAAA\n', 'o\n01\nAAAA\n', `o\n1\n${'A'.repeat(10)}\n`, 'o\n'])
      assert.equal(
        code(() => openCheckpoint(signNote(text, signer), [verifier])),
        'TLOG_MALFORMED_NOTE',
        text,
      );
  });
});
