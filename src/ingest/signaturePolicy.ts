// Which events must be signed, and by whom (docs/security.md "Signed events").
// Producers are registered with the CloudEvent sources they send from (globs) and
// their public keys; the first producer whose glob matches an event's `source` is
// its producer:
// - a signed event is verified against that producer's keys; any failure rejects it;
// - an unsigned event is rejected when the producer is marked `mustSign`;
// - an event from no registered producer is accepted, its signature unverified.
// The result goes into the stored event's metadata (`signature`).
import type { KeyObject } from 'node:crypto';
import { ProvenantError } from '../errors.js';
import type { CloudEventJson } from './cloudEventSchema.js';
import { DSSE_MATERIAL, verifyEventSignature } from './verifiability.js';

/** A registered producer. */
export interface Producer {
  readonly id: string;
  /** Globs over CloudEvent `source`: `*` stays within a `/` segment, `**` crosses them. */
  readonly sources: readonly string[];
  /** Key id → public key. */
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly mustSign: boolean;
}

/** What is recorded in the metadata of an event from a registered producer or signed. */
export type SignatureRecord =
  | { readonly verified: true; readonly producer: string; readonly keyId: string }
  | {
      readonly verified: false;
      readonly producer?: string;
      readonly reason: 'unsigned' | 'no registered producer';
    };

/** Decides, for one validated event, what its signature means; throws to reject it. */
export type SignaturePolicy = (event: CloudEventJson) => SignatureRecord | undefined;

/** A source glob as an expression: `**` any characters, `*` any but `/`, `?` one. */
export function globPattern(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The policy for a list of producers (first match wins). */
export function createSignaturePolicy(producers: readonly Producer[]): SignaturePolicy {
  const matchers = producers.map((producer) => ({
    producer,
    patterns: producer.sources.map(globPattern),
  }));
  return (event) => {
    const signed = event[DSSE_MATERIAL] !== undefined && event[DSSE_MATERIAL] !== '';
    const match = matchers.find(({ patterns }) => patterns.some((p) => p.test(event.source)));
    if (match === undefined)
      return signed ? { verified: false, reason: 'no registered producer' } : undefined;
    const { producer } = match;
    if (!signed) {
      if (producer.mustSign)
        throw new ProvenantError(
          'INGEST_SIGNATURE_REQUIRED',
          `Producer '${producer.id}' must sign its events (CloudEvents verifiability extension, '${DSSE_MATERIAL}')`,
          { details: { producer: producer.id } },
        );
      return { verified: false, producer: producer.id, reason: 'unsigned' };
    }
    const { keyId } = verifyEventSignature(event, producer.keys);
    return { verified: true, producer: producer.id, keyId };
  };
}
