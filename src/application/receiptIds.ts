// Receipt ids (issue 4): a receipt recorded from a CloudEvent gets an id derived
// deterministically from the event's `source` + `id`, so that a redelivery decides
// the same id; any other receipt gets a ULID. Ids are chosen here, outside the pure
// decider, and passed in with the command.
import { createHash } from 'node:crypto';
import { canonicalize } from '../encoding/canonicalJson.js';
import { newEventId, uuidV5 } from '../eventStore/ids.js';

/**
 * Namespace of Provenant's name-based receipt ids (RFC 9562 §5.5, UUID version 5).
 * Fixed forever: changing it changes every derived receipt id.
 */
export const RECEIPT_ID_NAMESPACE = '5d3c6f0e-8a7b-4c1d-9e2f-3a4b5c6d7e8f';

/** The receipt id of a receipt recorded from the CloudEvent `source` + `id`. */
export const receiptIdFromCloudEvent = (source: string, id: string): string =>
  uuidV5(RECEIPT_ID_NAMESPACE, canonicalize([source, id]));

/** A new receipt id for a receipt that did not come from a CloudEvent. */
export const newReceiptId = (): string => newEventId();

/** Hex SHA-256 of the canonical JSON of `value`: "the same content" for idempotency. */
export const canonicalDigest = (value: unknown): string =>
  createHash('sha256').update(canonicalize(value)).digest('hex');
