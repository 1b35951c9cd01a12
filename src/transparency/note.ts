// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, and the
// transparency-log checkpoint they carry (https://c2sp.org/tlog-checkpoint):
//
//   <origin>\n<tree size>\n<base64 root hash>\n      ← the signed text
//   \n
//   — <key name> <base64(key hash (4 bytes) || signature)>\n
//
// key hash = SHA-256(<key name> || "\n" || 0x01 || Ed25519 public key)[0:4], and
// the verifier key is `<key name>+<hex key hash>+<base64(0x01 || public key)>`.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { ProvenantError } from '../errors.js';

const ED25519 = 0x01;
const SIG_PREFIX = '— ';
/** DER prefix of a PKCS#8 Ed25519 private key before its 32-byte seed (RFC 8410). */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
/** DER prefix of an SPKI Ed25519 public key before its 32 bytes. */
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

const malformed = (message: string): ProvenantError =>
  new ProvenantError('TLOG_MALFORMED_NOTE', message);

/** A key name: non-empty, no whitespace, no '+' (signed-note §"Signatures"). */
const isKeyName = (name: string): boolean => /^[^\s+]+$/u.test(name);

const keyHash = (name: string, publicKey: Buffer): Buffer =>
  createHash('sha256')
    .update(`${name}\n`)
    .update(Buffer.from([ED25519]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);

const rawPublicKey = (key: KeyObject): Buffer =>
  key.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);

/** Signs notes under one name with one Ed25519 key. */
export interface NoteSigner {
  readonly name: string;
  readonly keyHash: Buffer;
  /** `<name>+<hex hash>+<base64(0x01 || public key)>`: what verifiers are given. */
  readonly verifierKey: string;
  sign(message: Buffer): Buffer;
}

/** A note signer from an Ed25519 private key object. */
export function noteSigner(name: string, privateKey: KeyObject): NoteSigner {
  if (!isKeyName(name))
    throw new ProvenantError('TLOG_BAD_KEY', `Key name '${name}' is empty or has spaces or '+'`);
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new ProvenantError('TLOG_BAD_KEY', 'The log key is not an Ed25519 private key');
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  const hash = keyHash(name, publicKey);
  return {
    name,
    keyHash: hash,
    verifierKey: `${name}+${hash.toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), publicKey]).toString('base64')}`,
    sign: (message) => sign(null, message, privateKey),
  };
}

/** An Ed25519 private key from its 32-byte seed. */
export const privateKeyFromSeed = (seed: Buffer): KeyObject =>
  createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });

/** Checks signatures of one name and key. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyHash: Buffer;
  verify(message: Buffer, signature: Buffer): boolean;
}

/** Parses a verifier key `<name>+<hex hash>+<base64 key>`; TLOG_BAD_KEY when malformed. */
export function parseVerifierKey(text: string): NoteVerifier {
  const bad = (why: string): ProvenantError =>
    new ProvenantError('TLOG_BAD_KEY', `Verifier key is malformed: ${why}`);
  const trimmed = text.trim();
  const first = trimmed.indexOf('+');
  const second = trimmed.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw bad('expected <name>+<hash>+<key>');
  const name = trimmed.slice(0, first);
  const hashHex = trimmed.slice(first + 1, second);
  const material = Buffer.from(trimmed.slice(second + 1), 'base64');
  if (!isKeyName(name)) throw bad('bad key name');
  if (!/^[0-9a-f]{8}$/.test(hashHex)) throw bad('the key hash is not 8 hex digits');
  if (material.length !== 33 || material[0] !== ED25519) throw bad('not an Ed25519 key');
  const publicKeyBytes = material.subarray(1);
  const hash = keyHash(name, publicKeyBytes);
  if (hash.toString('hex') !== hashHex) throw bad('the key hash does not match the key');
  const publicKey = createPublicKey({
    key: Buffer.concat([SPKI_ED25519, publicKeyBytes]),
    format: 'der',
    type: 'spki',
  });
  return {
    name,
    keyHash: hash,
    verify: (message, signature) => verify(null, message, publicKey, signature),
  };
}

/** Signs `text` (which must end in a newline): the whole note. */
export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith('\n')) throw malformed('Note text must end with a newline');
  const signature = signer.sign(Buffer.from(text, 'utf8'));
  return `${text}\n${SIG_PREFIX}${signer.name} ${Buffer.concat([signer.keyHash, signature]).toString('base64')}\n`;
}

/** One signature line of a note. */
interface SignatureLine {
  name: string;
  keyHash: Buffer;
  signature: Buffer;
}

/** Splits a note into its text and signature lines; TLOG_MALFORMED_NOTE when it is not one. */
export function splitNote(note: string): { text: string; signatures: SignatureLine[] } {
  if (note.length > 1_000_000) throw malformed('Note is too long');
  if (!note.endsWith('\n')) throw malformed('Note does not end with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('Note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  const signatures = lines.map((line) => {
    const match = /^— (\S+) ([A-Za-z0-9+/]+=*)$/u.exec(line);
    if (match === null) throw malformed(`Not a signature line: '${line.slice(0, 80)}'`);
    const blob = Buffer.from(match[2] as string, 'base64');
    if (blob.length < 5) throw malformed('Signature is too short');
    return { name: match[1] as string, keyHash: blob.subarray(0, 4), signature: blob.subarray(4) };
  });
  if (signatures.length === 0) throw malformed('Note has no signature');
  return { text, signatures };
}

/**
 * Opens a note: its text when a signature of one of `verifiers` verifies.
 * TLOG_UNKNOWN_KEY when no signature is by a known key, TLOG_BAD_SIGNATURE when
 * one is by a known key and does not verify.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): string {
  const { text, signatures } = splitNote(note);
  const message = Buffer.from(text, 'utf8');
  let known = false;
  for (const line of signatures) {
    const verifier = verifiers.find((v) => v.name === line.name && v.keyHash.equals(line.keyHash));
    if (verifier === undefined) continue;
    known = true;
    if (verifier.verify(message, line.signature)) return text;
  }
  if (!known)
    throw new ProvenantError(
      'TLOG_UNKNOWN_KEY',
      `Note is signed by ${signatures.map((s) => `${s.name}+${s.keyHash.toString('hex')}`).join(', ')}, none of them a known key`,
    );
  throw new ProvenantError('TLOG_BAD_SIGNATURE', 'Note signature does not verify');
}

/** A checkpoint: the log's origin, its size and root hash. */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

/** The checkpoint's note text (before signing). */
export const checkpointText = (c: Checkpoint): string =>
  `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`;

/** Parses checkpoint text (extension lines after the root are allowed and ignored). */
export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  const [origin, sizeLine, rootLine] = lines;
  if (origin === undefined || origin === '' || sizeLine === undefined || rootLine === undefined)
    throw malformed('Checkpoint needs an origin, a tree size and a root hash line');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine)))
    throw malformed(`Checkpoint tree size '${sizeLine.slice(0, 40)}' is not a decimal number`);
  const root = Buffer.from(rootLine, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootLine)
    throw malformed('Checkpoint root hash is not the base64 of 32 bytes');
  return { origin, size: Number(sizeLine), root };
}

/** Verifies a signed checkpoint note and parses it. */
export const openCheckpoint = (note: string, verifiers: readonly NoteVerifier[]): Checkpoint =>
  parseCheckpointText(openNote(note, verifiers));

/** Parses a signed checkpoint note without checking its signatures (for display). */
export const readCheckpointUnverified = (note: string): Checkpoint =>
  parseCheckpointText(splitNote(note).text);
