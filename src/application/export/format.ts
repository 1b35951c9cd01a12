// The export format `provenant-export/v1` (docs/export.md): the files of a unit's
// export, how a stored event is written as one JSON line and read back, and the
// manifest. Shared by the writer (exportUnit.ts) and the offline verifier
// (verifyExport.ts), so that both agree on every name and field.
import { createHash } from 'node:crypto';
import { EXPORT_FORMAT } from '../../domain/events.js';
import { fromEventJson, toEventJson, type EventJson } from '../../eventStore/eventJson.js';
import type { RecordedEvent } from '../../eventStore/types.js';

export { EXPORT_FORMAT };

/** Every event of the unit's stream, in stream order, one stored event a line. */
export const EVENTS_FILE = 'events.jsonl';
/** The gate and stage definition events the unit's verdicts name, whole streams in log order. */
export const DEFINITIONS_FILE = 'definitions.jsonl';
export const MANIFEST_FILE = 'manifest.json';
export const ATTESTATIONS_DIR = 'attestations';
export const KEYS_DIR = 'keys';

/** `attestations/<id>.intoto.jsonl`: the DSSE envelope, one line. */
export const envelopePath = (attestationId: string): string =>
  `${ATTESTATIONS_DIR}/${attestationId}.intoto.jsonl`;
/** `attestations/<id>.sigstore.json`: the Sigstore bundle (v0.3). */
export const bundlePath = (attestationId: string): string =>
  `${ATTESTATIONS_DIR}/${attestationId}.sigstore.json`;
/** `keys/<keyid>.pub.pem`: a public key (SPKI PEM) named by its key id. */
export const keyPath = (keyId: string): string => `${KEYS_DIR}/${keyId}.pub.pem`;

/** One file the manifest lists: its path in the export, SHA-256 and size. */
export interface ManifestFile {
  path: string;
  sha256: string;
  bytes: number;
}

/** `manifest.json`. */
export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  /** The unit key. */
  unit: string;
  /** RFC 3339 time of the export. */
  exportedAt: string;
  /** The principal that asked for it, when known. */
  exportedBy?: string;
  /** Global position of the log's last event when exported, in decimal. */
  headPosition: string;
  /** Every other file of the export, sorted by path. */
  files: ManifestFile[];
}

/** An event as one line of `events.jsonl` / `definitions.jsonl`: the stored event as JSON. */
export type EventLine = EventJson;

export const sha256Hex = (bytes: Buffer | string): string =>
  createHash('sha256').update(bytes).digest('hex');

/** The JSON line of a stored event (fields in a fixed order, ending in a newline). */
export const eventLine = (event: RecordedEvent): string =>
  `${JSON.stringify(toEventJson(event))}\n`;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An event line read back as a stored event, or a message saying what is wrong with it. */
export function parseEventLine(text: string): RecordedEvent | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  return fromEventJson(value);
}
