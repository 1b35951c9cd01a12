// A receipt as the unit stream records it: the shape checks that turn a
// receipt input into `ReceiptRecorded.v1` data, and the check of its custom
// section against the schemas of the gates that require its action.
import { ProvenantError } from '../errors.js';
import { describeSchemaErrors, type CustomSchemaError } from './customSchema.js';
import type { Definitions } from './definitions.js';
import type { ReceiptRecordedData } from './events.js';
import { assertActionName, isReceiptId } from './names.js';
import type { ArtifactRef, EvidenceRef, ReceiptInput } from './receiptInput.js';
import { normalizeUnitKey } from './unitKey.js';
import {
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
  isPlainObject,
  optionalText,
  requiredText,
} from './validate.js';

const invalidReceipt = (message: string): ProvenantError =>
  new ProvenantError('DOMAIN_INVALID_RECEIPT', message);

function optionalObject(what: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw invalidReceipt(`${what} must be a JSON object`);
  return value;
}

function digestSet(what: string, value: unknown): Record<string, string> {
  if (!isPlainObject(value) || Object.keys(value).length === 0)
    throw invalidReceipt(`${what}.digest must be a non-empty object of algorithm -> hex`);
  for (const [algorithm, hex] of Object.entries(value))
    if (
      !/^[a-z0-9-]{1,32}$/.test(algorithm) ||
      typeof hex !== 'string' ||
      !/^[0-9a-f]{16,128}$/.test(hex)
    )
      throw invalidReceipt(`${what}.digest.${algorithm} must be lower-case hex`);
  return value as Record<string, string>;
}

function refs<T extends ArtifactRef | EvidenceRef>(
  what: string,
  value: unknown,
  uriRequired: boolean,
): T[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalidReceipt(`${what} must be an array`);
  return (value as unknown[]).map((entry, index) => {
    const where = `${what}[${index}]`;
    if (!isPlainObject(entry)) throw invalidReceipt(`${where} must be an object`);
    digestSet(where, entry.digest);
    if (uriRequired || entry.uri !== undefined)
      requiredText('DOMAIN_INVALID_RECEIPT', `${where}.uri`, entry.uri, MAX_TEXT_LENGTH);
    return entry as unknown as T;
  });
}

/**
 * Checks a receipt's shape (the ingest schemas check it in depth) and returns the
 * `ReceiptRecorded.v1` data: canonical unit key, known fields only.
 */
export function receiptData(receiptId: string, input: ReceiptInput): ReceiptRecordedData {
  if (!isReceiptId(receiptId))
    throw invalidReceipt(`Receipt id '${String(receiptId)}' is neither a ULID nor a UUID`);
  if (!isPlainObject(input)) throw invalidReceipt('A receipt must be a JSON object');
  const data: ReceiptRecordedData = {
    receiptId,
    unit: normalizeUnitKey(input.unit),
    action: assertActionName(input.action),
    multipass: (() => {
      if (typeof input.multipass !== 'boolean') throw invalidReceipt('multipass must be a boolean');
      return input.multipass;
    })(),
  };
  const results = optionalObject('results', input.results);
  if (results !== undefined) data.results = results;
  const custom = optionalObject('custom', input.custom);
  if (custom !== undefined) data.custom = custom;
  const artifacts = refs<ArtifactRef>('artifacts', input.artifacts, false);
  if (artifacts !== undefined) data.artifacts = artifacts;
  const evidence = refs<EvidenceRef>('evidence', input.evidence, true);
  if (evidence !== undefined) data.evidence = evidence;
  for (const field of ['producer', 'correlationId', 'startedAt', 'finishedAt'] as const) {
    const text = optionalText('DOMAIN_INVALID_RECEIPT', field, input[field], MAX_NAME_LENGTH);
    if (text !== undefined) data[field] = text;
  }
  if (input.origin !== undefined) {
    const origin = optionalObject('origin', input.origin) ?? {};
    for (const field of ['source', 'id', 'type'] as const)
      requiredText('DOMAIN_INVALID_RECEIPT', `origin.${field}`, origin[field], MAX_TEXT_LENGTH);
    optionalText('DOMAIN_INVALID_RECEIPT', 'origin.time', origin.time, MAX_NAME_LENGTH);
    data.origin = input.origin;
  }
  return data;
}

/** Validates `custom` against every enabled gate that requires `action` and has a schema. */
export function checkCustomSection(data: ReceiptRecordedData, definitions: Definitions): void {
  const violations: { gateId: string; gateVersion: number; errors: CustomSchemaError[] }[] = [];
  for (const gate of definitions.gates.values()) {
    if (!gate.enabled || gate.validateCustom === undefined) continue;
    if (!gate.requiredActions.includes(data.action)) continue;
    if (!gate.validateCustom(data.custom ?? {}))
      violations.push({
        gateId: gate.gateId,
        gateVersion: gate.version,
        errors: describeSchemaErrors(gate.validateCustom.errors),
      });
  }
  if (violations.length > 0)
    throw new ProvenantError(
      'DOMAIN_CUSTOM_SCHEMA_VIOLATION',
      `The custom section of the '${data.action}' receipt violates the schema of gate ${violations
        .map((v) => `'${v.gateId}' v${v.gateVersion}`)
        .join(', ')}: ${violations
        .flatMap((v) => v.errors.map((e) => `${e.instancePath || '/'} ${e.message}`))
        .join('; ')}`,
      { details: { violations } },
    );
}
