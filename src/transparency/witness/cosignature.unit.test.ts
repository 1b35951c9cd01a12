// cosignature/v1 (https://c2sp.org/tlog-cosignature): the spec's example
// message and line, vkeys, and what verifyCosignatures accepts and refuses.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { isProvenantError } from '../../errors.js';
import { privateKeyFromSeed } from '../note.js';
import { cosignatureMessage, parseCosignerKey, verifyCosignatures } from './cosignature.js';

// The spec's example checkpoint and its witness line.
const SPEC_TEXT =
  'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
const SPEC_LINE =
  '— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==';

const NAME = 'witness.test/w1';
const privateKey = privateKeyFromSeed(Buffer.alloc(32, 7));
const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);
const keyId = createHash('sha256')
  .update(Buffer.concat([Buffer.from(`${NAME}\n`), Buffer.from([4]), publicKey]))
  .digest()
  .subarray(0, 4);
const VKEY = `${NAME}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([4]), publicKey]).toString('base64')}`;
const NOW = 1_800_000_000;

/** A cosignature line made here from the spec (name, time, and what is signed). */
function line(time: number, signed = SPEC_TEXT, name = NAME, signedTime = time): string {
  const stamp = Buffer.alloc(8);
  stamp.writeBigUInt64BE(BigInt(time));
  const message = Buffer.from(`cosignature/v1\ntime ${signedTime}\n${signed}`);
  const signature = sign(null, message, privateKey);
  return `— ${name} ${Buffer.concat([keyId, stamp, signature]).toString('base64')}`;
}

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (isProvenantError(error)) return error.code;
    throw error;
  }
  return 'none';
};

describe('cosignature/v1', () => {
  it("builds the spec's example message, whose time is the one in the spec's example line", () => {
    assert.equal(
      cosignatureMessage(SPEC_TEXT, 1679315147).toString(),
      `cosignature/v1\ntime 1679315147\n${SPEC_TEXT}`,
    );
    const blob = Buffer.from(SPEC_LINE.split(' ')[2] ?? '', 'base64');
    assert.equal(blob.length, 76);
    assert.equal(blob.readBigUInt64BE(4), 1679315147n);
  });

  it('parses a vkey of type 0x04, checking its key ID; refuses a note key (0x01)', () => {
    const key = parseCosignerKey(VKEY);
    assert.equal(key.name, NAME);
    assert.deepEqual(key.keyId, keyId);
    const noteKey = `${NAME}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([1]), publicKey]).toString('base64')}`;
    assert.equal(
      code(() => parseCosignerKey(noteKey)),
      'TLOG_BAD_KEY',
    );
    const wrongId = VKEY.replace(`+${keyId.toString('hex')}+`, '+00000000+');
    assert.equal(
      code(() => parseCosignerKey(wrongId)),
      'TLOG_BAD_KEY',
    );
    assert.equal(
      code(() => parseCosignerKey('nonsense')),
      'TLOG_BAD_KEY',
    );
  });

  it('verifies the lines of configured keys, ignoring the others', () => {
    const keys = [parseCosignerKey(VKEY)];
    const answer = `${SPEC_LINE}\n${line(NOW - 5)}\n${line(NOW - 4)}\n`; // one kept per key
    const [found, ...more] = verifyCosignatures(SPEC_TEXT, answer, keys, NOW);
    assert.equal(more.length, 0);
    assert.deepEqual(
      { ...found, signature: undefined },
      {
        witness: NAME,
        keyId: keyId.toString('hex'),
        witnessKey: VKEY,
        timestamp: NOW - 5,
        signature: undefined,
        line: line(NOW - 5),
      },
    );
  });

  it('refuses a signature over another time, another text, or from the future; needs one by a configured key', () => {
    const keys = [parseCosignerKey(VKEY)];
    const verifyLine = (l: string): string =>
      code(() => verifyCosignatures(SPEC_TEXT, `${l}\n`, keys, NOW));
    assert.equal(verifyLine(line(NOW, SPEC_TEXT, NAME, NOW - 1)), 'TLOG_BAD_SIGNATURE');
    assert.equal(
      verifyLine(line(NOW, SPEC_TEXT.replace('20852163', '20852164'))),
      'TLOG_BAD_SIGNATURE',
    );
    assert.equal(verifyLine(line(NOW + 3600)), 'TLOG_BAD_SIGNATURE');
    assert.equal(verifyLine(line(NOW).slice(0, -8)), 'TLOG_BAD_SIGNATURE'); // truncated
    assert.equal(verifyLine(SPEC_LINE), 'TLOG_UNKNOWN_KEY');
    assert.equal(verifyLine(line(NOW, SPEC_TEXT, 'witness.test/other')), 'TLOG_UNKNOWN_KEY');
    assert.equal(
      code(() => verifyCosignatures(SPEC_TEXT, '', keys, NOW)),
      'TLOG_UNKNOWN_KEY',
    );
    assert.equal(verifyLine('not a signature line'), 'TLOG_MALFORMED_NOTE');
    assert.equal(verifyLine(line(NOW)), 'none');
    // A bad line of a configured key is refused even after a good one.
    const both = `${line(NOW)}\n${line(NOW, SPEC_TEXT, NAME, NOW - 1)}\n`;
    assert.equal(
      code(() => verifyCosignatures(SPEC_TEXT, both, keys, NOW)),
      'TLOG_BAD_SIGNATURE',
    );
  });
});
