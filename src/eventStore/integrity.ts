// Integrity fields of stored events (DESIGN.md §3):
//
//   contentDigest = SHA-256( JCS({ type, data, context }) )
//   eventDigest   = SHA-256( bytes(prevDigest) || bytes(contentDigest) )
//   prevDigest    = eventDigest of the previous event of the stream, or 32 zero bytes
//
// Because each event's link covers the previous link, editing, deleting or
// reordering any event breaks every later link of its stream.
import { hash } from 'node:crypto';
import { canonicalize } from '../encoding/canonicalJson.js';
import type { EventContext } from './types.js';

export const ZERO_DIGEST = '0'.repeat(64);

/** SHA-256 in hex of a string's UTF-8 bytes, or of raw bytes. */
const sha256Hex = (input: string | Buffer): string => hash('sha256', input, 'hex');

/** Canonical JSON that the content digest covers. */
export const contentText = (
  type: string,
  data: unknown,
  context: EventContext | undefined,
): string => contentTextOf(type, canonicalize(data), context);

/**
 * The content text around the data: RFC 8785 sorts the members `context` <
 * `data` < `type`, so the wrapper is assembled without walking the data again.
 */
const NULL_CONTEXT_HEAD = '{"context":null,"data":';
const contentHead = (context: EventContext | undefined): string =>
  context === undefined ? NULL_CONTEXT_HEAD : `{"context":${canonicalize(context)},"data":`;

/** `,"type":<type>}` for the few event types a store sees, quoted once each (bounded). */
const typeTails = new Map<string, string>();
const TYPE_TAILS_MAX = 1024;

function typeTail(type: string): string {
  let tail = typeTails.get(type);
  if (tail === undefined) {
    tail = `,"type":${JSON.stringify(type)}}`;
    if (typeTails.size < TYPE_TAILS_MAX) typeTails.set(type, tail);
  }
  return tail;
}

/**
 * The same text from data already in canonical form. A unit test checks it
 * against `canonicalize` of the whole object.
 */
export const contentTextOf = (
  type: string,
  canonicalData: string,
  context: EventContext | undefined,
): string => contentHead(context) + canonicalData + typeTail(type);

/**
 * The content digest from data already in canonical form: the SHA-256 of the
 * UTF-8 bytes of `contentTextOf(type, canonicalData, context)`. The text has no
 * lone surrogate (canonical JSON escapes them), so its UTF-8 form is exact.
 */
export const contentDigestOfCanonical = (
  type: string,
  canonicalData: string,
  context: EventContext | undefined,
): string => sha256Hex(contentTextOf(type, canonicalData, context));

export const contentDigest = (
  type: string,
  data: unknown,
  context: EventContext | undefined,
): string => contentDigestOfCanonical(type, canonicalize(data), context);

/**
 * The chain link of an event, which its stream's next event carries as
 * `prevDigest`: the SHA-256 of the raw bytes of both digests. A digest that is
 * not 64 hex digits (only a damaged row holds one) is decoded as
 * `Buffer.from(hex, 'hex')` always has decoded it, without throwing, so the
 * link it yields is the one stored logs were verified with.
 */
export const eventDigest = (prevDigest: string, contentDigestHex: string): string =>
  sha256Hex(Buffer.from(prevDigest + contentDigestHex, 'hex'));
