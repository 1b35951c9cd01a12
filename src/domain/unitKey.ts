// Unit keys (DESIGN.md §1, issue 18; docs/units.md). A unit is named by its
// canonical package URL (src/domain/purl.ts); an NVRPP key
// (`name/version/release/platform/packageType`, src/domain/nvrpp.ts) is the short
// form of an RPM-style purl and stays the unit's key wherever it has one, so that
// every existing stream, event and read-model row keeps its name. A unit key is
// therefore either an NVRPP or a canonical purl; both parse here.
import {
  formatUnitKey,
  normalizeUnitKey as normalizeNvrpp,
  parseUnitKey,
  unitStreamName as nvrppStreamName,
  MAX_UNIT_KEY_LENGTH,
  MAX_UNIT_KEY_PART_LENGTH,
  UNIT_KEY_PARTS,
  UNIT_STREAM_PREFIX,
  type UnitKey,
} from './nvrpp.js';
import { looksLikePurl, resolveUnit, type UnitIdentity } from './purl.js';

export {
  formatUnitKey,
  parseUnitKey,
  MAX_UNIT_KEY_LENGTH,
  MAX_UNIT_KEY_PART_LENGTH,
  UNIT_KEY_PARTS,
  UNIT_STREAM_PREFIX,
};
export type { UnitKey, UnitIdentity };
export { resolveUnit };

/**
 * Validates a unit key — an NVRPP or a purl — and returns the unit's key: the
 * NVRPP where the unit has one, else its canonical purl. Throws
 * `DOMAIN_INVALID_UNIT_KEY` for a malformed NVRPP and the `DOMAIN_*PURL*` /
 * `DOMAIN_INVALID_OCI_DIGEST` codes for a purl that names no unit.
 */
export const normalizeUnitKey = (key: unknown): string =>
  typeof key === 'string' && looksLikePurl(key) ? resolveUnit(key).key : normalizeNvrpp(key);

/** True when the (normalised) key is a canonical purl rather than an NVRPP. */
export const isPurlUnitKey = (key: string): boolean => looksLikePurl(key);

/**
 * The stream of an NVRPP unit: `unit-<key>`. Units named only by a purl have
 * bounded, hashed stream names: use `unitStream` (src/application/unitStreams.ts),
 * which handles both. Throws `DOMAIN_INVALID_UNIT_KEY` for anything but an NVRPP.
 */
export const unitStreamName = (key: string | UnitKey): string => nvrppStreamName(key);

/** Whether `key` names a unit (NVRPP or purl). */
export const isValidUnitKey = (key: unknown): boolean => {
  try {
    normalizeUnitKey(key);
    return true;
  } catch {
    return false;
  }
};
