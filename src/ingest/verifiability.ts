// The CloudEvents verifiability extension: DSSE over the event
// (https://github.com/cloudevents/spec/blob/main/cloudevents/extensions/verifiability.md).
// A producer signs the SHA-256 of a list of digests of the event's context
// attributes, its data and the extension attributes it names in `signedextattrs`;
// the DSSE envelope travels base64-encoded in the `dssematerial` extension.
//
// Choices the spec leaves open, fixed here (docs/security.md "Signed events"):
// - the digested bytes of `data`: the decoded bytes of `data_base64`; a string's
//   UTF-8 when the data content type is not JSON; otherwise the RFC 8785 canonical
//   JSON of the value (so re-serialising the event does not break the signature);
// - `time` normalised to RFC 3339 UTC with second precision, as the spec's vectors;
// - signatures: ECDSA P-256 with SHA-256 (raw r‖s as in the spec's vectors, or
//   DER) and Ed25519.
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalize } from '../encoding/canonicalJson.js';
import { ProvenantError } from '../errors.js';
import { sigstoreCore } from '../sigstore.js';
import type { CloudEventJson } from './cloudEventSchema.js';
import { isJsonMediaType, parseMediaType } from './mediaType.js';

/** The DSSE payload type of this version of the extension. */
export const VERIFIABILITY_PAYLOAD_TYPE = 'https://cloudevents.io/verifiability/dsse/v0.1';
export const DSSE_MATERIAL = 'dssematerial';
export const SIGNED_EXT_ATTRS = 'signedextattrs';

const CORE_ATTRIBUTES = new Set([
  'id',
  'source',
  'specversion',
  'type',
  'datacontenttype',
  'dataschema',
  'subject',
  'time',
]);

const sha256 = (bytes: Uint8Array | string): Buffer => createHash('sha256').update(bytes).digest();

const malformed = (reason: string): ProvenantError =>
  new ProvenantError('INGEST_SIGNATURE_MALFORMED', `Verification material: ${reason}`, {
    details: { reason },
  });

/** The signed extension attributes named in `signedextattrs`, checked as the spec says. */
export function signedExtensionsOf(event: CloudEventJson): string[] {
  const raw = event[SIGNED_EXT_ATTRS];
  if (raw === undefined || raw === '') return [];
  if (typeof raw !== 'string') throw malformed('signedextattrs is not a string');
  const names = raw.split(',');
  if (new Set(names).size !== names.length) throw malformed('signedextattrs repeats a name');
  for (const name of names)
    if (
      CORE_ATTRIBUTES.has(name) ||
      name === DSSE_MATERIAL ||
      name === SIGNED_EXT_ATTRS ||
      !/^[a-z0-9]{1,20}$/.test(name)
    )
      throw malformed(`signedextattrs names '${name.slice(0, 40)}', which cannot be signed`);
  return names;
}

function timeOf(event: CloudEventJson): string {
  if (event.time === undefined) return '';
  const date = new Date(event.time);
  if (Number.isNaN(date.getTime())) throw malformed('time is not a timestamp');
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

function dataBytes(event: CloudEventJson): Uint8Array | string {
  if (typeof event.data_base64 === 'string') return Buffer.from(event.data_base64, 'base64');
  if (event.data === undefined) return '';
  const media =
    event.datacontenttype === undefined ? undefined : parseMediaType(event.datacontenttype);
  if (typeof event.data === 'string' && media !== undefined && !isJsonMediaType(media))
    return event.data;
  return canonicalize(event.data);
}

const text = (value: unknown): string =>
  value === undefined ? '' : typeof value === 'string' ? value : canonicalize(value);

/** The 32-byte `VERIFICATION_MATERIAL` of an event for the given signed extensions. */
export function verificationMaterial(event: CloudEventJson, signedExtensions: string[]): Buffer {
  const parts: Buffer[] = [
    sha256(text(event.id)),
    sha256(text(event.source)),
    sha256(text(event.specversion)),
    sha256(text(event.type)),
    sha256(text(event.datacontenttype)),
    sha256(text(event.dataschema)),
    sha256(text(event.subject)),
    sha256(timeOf(event)),
    sha256(dataBytes(event)),
  ];
  for (const name of signedExtensions) parts.push(sha256(name), sha256(text(event[name])));
  return sha256(Buffer.concat(parts));
}

interface Envelope {
  payload: string;
  payloadType: string;
  signatures: { keyid: string; sig: string }[];
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const fromBase64 = (value: unknown, what: string): Buffer => {
  if (typeof value !== 'string' || !BASE64.test(value)) throw malformed(`${what} is not base64`);
  return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
};

function envelopeOf(material: unknown): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromBase64(material, 'dssematerial').toString('utf8'));
  } catch (error) {
    if (error instanceof ProvenantError) throw error;
    throw malformed('dssematerial is not a DSSE JSON envelope');
  }
  const envelope = parsed as Partial<Envelope> | null;
  if (
    typeof envelope !== 'object' ||
    envelope === null ||
    typeof envelope.payload !== 'string' ||
    typeof envelope.payloadType !== 'string' ||
    !Array.isArray(envelope.signatures) ||
    envelope.signatures.length === 0
  )
    throw malformed('dssematerial is not a DSSE JSON envelope with a signature');
  return envelope as Envelope;
}

const algorithmOf = (key: KeyObject): string | null =>
  key.asymmetricKeyType === 'ed25519' ? null : 'sha256';

/** Verifies DSSE signature bytes over `pae` with a public key (ECDSA raw or DER, Ed25519). */
function verifies(key: KeyObject, pae: Buffer, signature: Buffer): boolean {
  try {
    if (key.asymmetricKeyType === 'ec')
      return verify(
        'sha256',
        pae,
        {
          key,
          dsaEncoding: signature[0] === 0x30 && signature.length !== 64 ? 'der' : 'ieee-p1363',
        },
        signature,
      );
    return verify(algorithmOf(key), pae, key, signature);
  } catch {
    return false;
  }
}

/** A verified event: which of the producer's keys signed it. */
export interface VerifiedSignature {
  readonly keyId: string;
}

/**
 * Verifies a signed event against the acceptable keys (key id → public key), as
 * the extension's verification protocol says. Throws `INGEST_SIGNATURE_MALFORMED`,
 * `INGEST_SIGNATURE_UNKNOWN_KEY` (no signature by an acceptable key id) or
 * `INGEST_SIGNATURE_INVALID` (the signature or the event's digest does not match).
 */
export function verifyEventSignature(
  event: CloudEventJson,
  keys: ReadonlyMap<string, KeyObject>,
): VerifiedSignature {
  const envelope = envelopeOf(event[DSSE_MATERIAL]);
  const candidates = envelope.signatures.filter(
    (s) => typeof s === 'object' && s !== null && keys.has(String(s.keyid)),
  );
  if (candidates.length === 0)
    throw new ProvenantError(
      'INGEST_SIGNATURE_UNKNOWN_KEY',
      'The event is not signed by any key registered for its producer',
      {
        details: {
          keyIds: envelope.signatures.map((s) => String(s.keyid).slice(0, 100)).slice(0, 10),
        },
      },
    );
  const payload = fromBase64(envelope.payload, 'payload');
  const pae = sigstoreCore().dsse.preAuthEncoding(envelope.payloadType, payload);
  const signer = candidates.find((s) =>
    verifies(keys.get(s.keyid) as KeyObject, pae, fromBase64(s.sig, 'sig')),
  );
  const invalid = (reason: string, keyId?: string): ProvenantError =>
    new ProvenantError('INGEST_SIGNATURE_INVALID', `The event's signature ${reason}`, {
      details: { reason, ...(keyId === undefined ? {} : { keyId }) },
    });
  if (signer === undefined) throw invalid('does not verify with the registered key');
  if (envelope.payloadType !== VERIFIABILITY_PAYLOAD_TYPE)
    throw invalid(`has payload type '${envelope.payloadType.slice(0, 100)}'`, signer.keyid);
  if (payload.length !== 32) throw invalid('payload is not a 32-byte digest', signer.keyid);
  const expected = verificationMaterial(event, signedExtensionsOf(event));
  if (!expected.equals(payload))
    throw invalid('does not match the event: it was changed after signing', signer.keyid);
  return { keyId: signer.keyid };
}

/**
 * Signs an event (the producer's side; `provenant sign-event`): sets
 * `signedextattrs` (when extensions are named) and `dssematerial`. ECDSA
 * signatures are raw r‖s, as in the extension's test vectors.
 */
export function signEvent(
  event: CloudEventJson,
  privateKey: KeyObject,
  keyId: string,
  signedExtensions: readonly string[] = [],
): CloudEventJson {
  const { [DSSE_MATERIAL]: _material, [SIGNED_EXT_ATTRS]: _names, ...unsigned } = event;
  const prepared: CloudEventJson =
    signedExtensions.length === 0
      ? unsigned
      : { ...unsigned, [SIGNED_EXT_ATTRS]: signedExtensions.join(',') };
  const payload = verificationMaterial(prepared, signedExtensionsOf(prepared));
  const pae = sigstoreCore().dsse.preAuthEncoding(VERIFIABILITY_PAYLOAD_TYPE, payload);
  const sig =
    privateKey.asymmetricKeyType === 'ec'
      ? sign('sha256', pae, { key: privateKey, dsaEncoding: 'ieee-p1363' })
      : sign(algorithmOf(privateKey), pae, privateKey);
  const envelope: Envelope = {
    payload: payload.toString('base64'),
    payloadType: VERIFIABILITY_PAYLOAD_TYPE,
    signatures: [{ keyid: keyId, sig: sig.toString('base64') }],
  };
  return {
    ...prepared,
    [DSSE_MATERIAL]: Buffer.from(JSON.stringify(envelope)).toString('base64'),
  };
}
