// An export of a unit's evidence (DESIGN.md §6): the `UnitExported.v1` event that
// records it in the unit's stream. Writing the export happens outside the
// domain; this checks what is recorded about it, in one place.
import { ProvenantError } from '../errors.js';
import { EXPORT_FORMAT, EventTypes, type UnitExported, type UnitExportedData } from './events.js';

const SHA256 = /^[0-9a-f]{64}$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * The event that records an export. Refuses data that would not identify the
 * export: another format, a manifest digest that is not SHA-256 hex, a time that
 * is not RFC 3339, a head position or revision that is not a non-negative integer.
 */
export function unitExported(data: UnitExportedData): UnitExported {
  const invalid = (message: string): ProvenantError =>
    new ProvenantError('DOMAIN_INVALID_COMMAND', `Export of ${data.unit}: ${message}`);
  const format: string = EXPORT_FORMAT;
  if (data.format !== format) throw invalid(`the format is not ${format}`);
  if (!SHA256.test(data.manifestDigest)) throw invalid('the manifest digest is not SHA-256 hex');
  if (!RFC3339.test(data.exportedAt)) throw invalid('the export time is not RFC 3339');
  if (!DECIMAL.test(data.headPosition)) throw invalid('the head position is not a decimal integer');
  if (!Number.isSafeInteger(data.unitRevision) || data.unitRevision < 0)
    throw invalid('the unit revision is not a non-negative integer');
  if (!Number.isSafeInteger(data.files) || data.files < 1)
    throw invalid('an export lists at least one file');
  return { type: EventTypes.UnitExported, data };
}
