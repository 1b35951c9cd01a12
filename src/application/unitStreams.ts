// Unit streams for both kinds of unit key (issue 18; docs/units.md): an NVRPP unit
// keeps its readable stream `unit-<nvrpp>` (unchanged for every existing stream);
// a unit named only by a purl gets `unit-purl-<sha256 hex of the canonical purl>`,
// bounded whatever the purl's length. The purl itself is in every event's `unit`.
import { createHash } from 'node:crypto';
import { isPurlUnitKey, normalizeUnitKey, unitStreamName } from '../domain/unitKey.js';

/** Prefix of the streams of purl-named units. */
export const PURL_UNIT_STREAM_PREFIX = 'unit-purl-';

/** The stream of a unit, NVRPP or purl. Validates (and normalises) the key. */
export function unitStream(key: string): string {
  const unit = normalizeUnitKey(key);
  return isPurlUnitKey(unit)
    ? PURL_UNIT_STREAM_PREFIX + createHash('sha256').update(unit).digest('hex')
    : unitStreamName(unit);
}
