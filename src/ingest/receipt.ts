// Our own receipt CloudEvent type, `dev.provenant.receipt.v1` (issue 4): its data
// is checked against schemas/receipt.v1.json and becomes a ReceiptInput whose
// origin is the CloudEvent context. The unit key's NVRPP syntax is the domain's
// to check (src/domain/unitKey.ts); here it is only a bounded string.
import receiptSchema from '../../schemas/receipt.v1.json' with { type: 'json' };
import type { ReceiptInput } from '../domain/receiptInput.js';
import { ProvenantError } from '../errors.js';
import { ingestAjv, schemaProblems } from './ajv.js';
import { identity, type CloudEventJson } from './cloudEventSchema.js';
import { isJsonMediaType, parseMediaType } from './mediaType.js';

/** The CloudEvent type of a Provenant receipt. */
export const RECEIPT_EVENT_TYPE = 'dev.provenant.receipt.v1';
/** `$id` of the receipt data schema; ingest and gate schemas may `$ref` its `$defs`. */
export const RECEIPT_SCHEMA_ID = receiptSchema.$id;

ingestAjv.addSchema(receiptSchema);
const validateReceipt = ingestAjv.getSchema(RECEIPT_SCHEMA_ID)!;

/** Receipt data as it travels in the CloudEvent (a ReceiptInput without its origin). */
export type ReceiptData = Omit<ReceiptInput, 'origin'>;

/** The receipt's origin: the CloudEvent it came from. */
export const originOf = (event: CloudEventJson): NonNullable<ReceiptInput['origin']> => ({
  source: event.source,
  id: event.id,
  type: event.type,
  ...(event.time === undefined ? {} : { time: event.time }),
});

/**
 * Maps a `dev.provenant.receipt.v1` CloudEvent to a ReceiptInput. Throws
 * `INGEST_INVALID_RECEIPT` when the data is missing, not JSON, or fails the schema.
 * `producer` defaults to the CloudEvent source.
 */
export function receiptFromCloudEvent(event: CloudEventJson): ReceiptInput {
  const media =
    event.datacontenttype === undefined ? undefined : parseMediaType(event.datacontenttype);
  if (media !== undefined && !isJsonMediaType(media))
    throw invalidReceipt(event, `Receipt data must be JSON, not ${media.essence}`, []);
  const data: unknown = event.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw invalidReceipt(event, 'Receipt data must be a JSON object', []);
  if (!validateReceipt(data)) {
    const problems = schemaProblems(validateReceipt.errors);
    const first = problems[0];
    throw invalidReceipt(
      event,
      `Receipt data is invalid${first === undefined ? '' : ` at ${first.path || '(root)'}: ${first.message}`}`,
      problems,
    );
  }
  const receipt = data as ReceiptData;
  // Object.assign rather than a spread with extra members: the same result, but a
  // spread followed by new properties was measurably slower per receipt.
  return Object.assign({}, receipt, {
    producer: receipt.producer ?? event.source,
    origin: originOf(event),
  });
}

const invalidReceipt = (
  event: CloudEventJson,
  message: string,
  problems: ReturnType<typeof schemaProblems>,
): ProvenantError =>
  new ProvenantError('INGEST_INVALID_RECEIPT', message, {
    details: { ...identity(event), problems },
  });
