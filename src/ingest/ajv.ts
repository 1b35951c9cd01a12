// The one Ajv instance ingest compiles its schemas with (JSON Schema 2020-12,
// strict mode, all errors so a problem can be classified precisely). Schemas are
// compiled once, at module load, by the modules that own them.
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { isRfc3339 } from '../rfc3339.js';
import { parseMediaType } from './mediaType.js';

const addFormats = addFormatsModule.default;

/**
 * Shared by the ingest schemas; `media-type` checks an RFC 9110 Content-Type
 * value. `date-time` is the store's one RFC 3339 check (src/rfc3339.ts), the
 * one the provenance builders apply to these times later: ajv-formats' own
 * also takes offsets RFC 3339 does not have (`+0200`, `+02`), and a receipt
 * stored with one could never be attested.
 */
export const ingestAjv = new Ajv2020({ strict: true, allErrors: true, validateFormats: true });
addFormats(ingestAjv, { mode: 'full', formats: ['uri', 'uri-reference'] });
ingestAjv.addFormat('date-time', isRfc3339);
ingestAjv.addFormat('media-type', (value: string) => parseMediaType(value) !== undefined);

/** One validation problem, safe to show to a producer. */
export interface SchemaProblem {
  /** JSON Pointer of the offending value ('' = the whole document). */
  readonly path: string;
  readonly message: string;
}

/** Ajv errors as short problems (at most `max`), naming missing and extra properties. */
export function schemaProblems(
  errors: readonly ErrorObject[] | null | undefined,
  max = 10,
): SchemaProblem[] {
  return (errors ?? []).slice(0, max).map((e) => {
    const params = e.params as Record<string, unknown>;
    const missing =
      typeof params['missingProperty'] === 'string' ? params['missingProperty'] : undefined;
    const extra =
      typeof params['additionalProperty'] === 'string' ? params['additionalProperty'] : undefined;
    const path =
      missing !== undefined
        ? `${e.instancePath}/${missing}`
        : extra !== undefined
          ? `${e.instancePath}/${extra}`
          : e.propertyName !== undefined
            ? `${e.instancePath}/${e.propertyName}`
            : e.instancePath;
    return { path, message: e.message ?? e.keyword };
  });
}
