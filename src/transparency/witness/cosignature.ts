// Timestamped Ed25519 witness cosignatures, cosignature/v1
// (https://c2sp.org/tlog-cosignature): a note signature line on a checkpoint,
//
//   — <witness name> base64(key ID (4 bytes) || u64 timestamp (big-endian) || Ed25519 signature)
//
// key ID = SHA-256(<name> || "\n" || 0x04 || public key)[0:4], the verifier key
// (vkey) `<name>+<hex key ID>+<base64(0x04 || public key)>`, and the signed
// message is
//
//   cosignature/v1\n
//   time <timestamp in decimal>\n
//   <the checkpoint's note text: origin, size, root, extension lines>
//
// This module only verifies: Provenant asks witnesses for cosignatures, it does
// not make them.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ProvenantError } from '../../errors.js';

/** The signature type byte of an Ed25519 cosignature/v1 key. */
export const COSIGNATURE_V1 = 0x04;
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
/** key ID (4) + timestamp (8) + Ed25519 signature (64). */
const SIGNATURE_BYTES = 4 + 8 + 64;
/** Cosignatures timestamped further ahead of this node's clock are refused. */
const MAX_CLOCK_SKEW_SECONDS = 600;

/** A witness's cosignature/v1 verifier key, parsed. */
export interface CosignerKey {
  /** The witness's key name (a schema-less URL, e.g. `witness.example/w1`). */
  readonly name: string;
  readonly keyId: Buffer;
  /** The vkey text it was parsed from. */
  readonly vkey: string;
  readonly publicKey: KeyObject;
}

/** One cosignature that verified: what is recorded in `CheckpointCosigned.v1`. */
export interface Cosignature {
  witness: string;
  /** Hex of the 4-byte key ID. */
  keyId: string;
  /** The witness's vkey that verified it. */
  witnessKey: string;
  /** POSIX seconds the witness put in it. */
  timestamp: number;
  /** Base64 of the 64-byte Ed25519 signature. */
  signature: string;
  /** The whole note signature line, newline excluded: append it to the note to carry it. */
  line: string;
}

const badKey = (why: string): ProvenantError =>
  new ProvenantError('TLOG_BAD_KEY', `Witness key is malformed: ${why}`);

const keyIdOf = (name: string, publicKey: Buffer): Buffer =>
  createHash('sha256')
    .update(`${name}\n`)
    .update(Buffer.from([COSIGNATURE_V1]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);

/** Parses a cosignature/v1 vkey `<name>+<hex key ID>+<base64(0x04 || key)>`; TLOG_BAD_KEY when it is not one. */
export function parseCosignerKey(text: string): CosignerKey {
  const vkey = text.trim();
  const parts = vkey.split('+');
  const [name, idHex] = parts;
  if (parts.length < 3 || name === undefined || idHex === undefined)
    throw badKey(`expected <name>+<key ID>+<key>, got '${vkey.slice(0, 80)}'`);
  const material = Buffer.from(parts.slice(2).join('+'), 'base64');
  if (!/^[^\s+]+$/u.test(name)) throw badKey('bad key name');
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw badKey('the key ID is not 8 hex digits');
  if (material.length !== 33 || material[0] !== COSIGNATURE_V1)
    throw badKey('not an Ed25519 cosignature/v1 key (signature type 0x04)');
  const raw = material.subarray(1);
  const keyId = keyIdOf(name, raw);
  if (keyId.toString('hex') !== idHex) throw badKey('the key ID does not match the key');
  const publicKey = createPublicKey({
    key: Buffer.concat([SPKI_ED25519, raw]),
    format: 'der',
    type: 'spki',
  });
  return { name, keyId, vkey, publicKey };
}

/** The message a cosignature/v1 signs, for a note text (ending in a newline) and a timestamp. */
export const cosignatureMessage = (noteText: string, timestamp: bigint | number): Buffer =>
  Buffer.from(`cosignature/v1\ntime ${BigInt(timestamp).toString()}\n${noteText}`, 'utf8');

const malformed = (message: string): ProvenantError =>
  new ProvenantError('TLOG_MALFORMED_NOTE', message);

/**
 * The cosignatures by `keys` among note signature `lines` (a witness's
 * add-checkpoint answer) on the checkpoint note text `noteText`, each verified.
 * Lines of other keys are ignored (tlog-witness: "The client MUST ignore any
 * cosignatures from unknown keys"); every line of a configured key is
 * verified, and the first of each key is returned. Throws TLOG_MALFORMED_NOTE
 * for a line that is not a signature line, TLOG_BAD_SIGNATURE when a line of a
 * configured key does not verify (or is timestamped in the future), and
 * TLOG_UNKNOWN_KEY when no line is by a configured key.
 */
export function verifyCosignatures(
  noteText: string,
  lines: string,
  keys: readonly CosignerKey[],
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Cosignature[] {
  const found: Cosignature[] = [];
  const body = lines.endsWith('\n') ? lines.slice(0, -1) : lines;
  for (const line of body === '' ? [] : body.split('\n')) {
    const match = /^— (\S+) ([A-Za-z0-9+/]+=*)$/u.exec(line);
    if (match === null) throw malformed(`Not a signature line: '${line.slice(0, 80)}'`);
    const name = match[1] as string;
    const blob = Buffer.from(match[2] as string, 'base64');
    const key = keys.find((k) => k.name === name && blob.subarray(0, 4).equals(k.keyId));
    if (key === undefined) continue;
    const where = `the cosignature of ${key.vkey}`;
    if (blob.length !== SIGNATURE_BYTES)
      throw new ProvenantError('TLOG_BAD_SIGNATURE', `${where} is ${blob.length} bytes, not 76`);
    const timestamp = blob.readBigUInt64BE(4);
    if (timestamp > BigInt(nowSeconds + MAX_CLOCK_SKEW_SECONDS))
      throw new ProvenantError('TLOG_BAD_SIGNATURE', `${where} is timestamped in the future`);
    const signature = blob.subarray(12);
    if (!verify(null, cosignatureMessage(noteText, timestamp), key.publicKey, signature))
      throw new ProvenantError('TLOG_BAD_SIGNATURE', `${where} does not verify`);
    if (found.some((f) => f.witnessKey === key.vkey)) continue; // one per key is kept
    found.push({
      witness: name,
      keyId: key.keyId.toString('hex'),
      witnessKey: key.vkey,
      timestamp: Number(timestamp),
      signature: signature.toString('base64'),
      line,
    });
  }
  if (found.length === 0)
    throw new ProvenantError(
      'TLOG_UNKNOWN_KEY',
      `The witness answered no cosignature by ${keys.map((k) => k.vkey).join(', ')}`,
    );
  return found;
}
