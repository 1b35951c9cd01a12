// Exporting a unit's evidence (DESIGN.md §6, docs/export.md): every event of its
// stream, the definition events its verdicts name, each issued attestation as
// an in-toto envelope and a Sigstore bundle, the public keys that verify them,
// and a manifest with the digest of every file: a folder (or a .tar.gz of it)
// that `verifyExport` checks offline. The export itself is recorded as a
// `UnitExported.v1` event in the unit's stream.
import { unitStream } from '../unitStreams.js';
import { createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  EventTypes,
  gateStreamName,
  normalizeUnitKey,
  stageStreamName,
  unitExported,
  type AttestationIssuedData,
  type GateVerdictData,
  type StageVerdictData,
} from '../../domain/index.js';
import { ProvenantError } from '../../errors.js';
import type { EventStore, RecordedEvent } from '../../eventStore/types.js';
import { keyIdOf } from '../../provenance/signing/index.js';
import { isArchivePath, packFolder } from './archive.js';
import {
  DEFINITIONS_FILE,
  EVENTS_FILE,
  EXPORT_FORMAT,
  MANIFEST_FILE,
  bundlePath,
  envelopePath,
  eventLine,
  keyPath,
  sha256Hex,
  type ExportManifest,
} from './format.js';
import { inclusionFiles } from './inclusion.js';
import type { TransparencyService } from '../../transparency/service.js';

export interface ExportOptions {
  /** Who asks for the export (recorded in the manifest and the UnitExported event). */
  principal?: string;
  /**
   * Public keys (SPKI PEM) that may have signed the unit's attestations: the
   * store's signing key. Each attestation's key is exported by its key id.
   */
  publicKeys: readonly string[];
  /** The export time; defaults to now. */
  now?: Date;
  /** The Merkle log: when given, the export carries its checkpoint and inclusion proofs. */
  transparency?: TransparencyService;
}

/** The files of an export, in memory, before they are written. */
export interface BuiltExport {
  manifest: ExportManifest;
  /** Path → bytes; manifest.json included. */
  files: Map<string, Buffer>;
  /** SHA-256 of manifest.json's bytes. */
  manifestDigest: string;
  /** Revision of the unit stream's last exported event. */
  unitRevision: number;
  events: number;
  definitions: number;
  attestations: number;
  /** Key ids of attestations whose key was not among `publicKeys` (they will not verify offline). */
  missingKeys: string[];
  /** Attestations recorded without their bundle (too large for one event): not exported. */
  withoutBundle: string[];
}

export interface ExportResult extends Omit<BuiltExport, 'files' | 'manifest'> {
  manifest: ExportManifest;
  /** Where it was written, and in which form. */
  out: string;
  form: 'folder' | 'archive';
  /** The UnitExported.v1 event that records the export. */
  event: { id: string; position: bigint };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Gate and stage ids the unit's verdicts (and VSAs) name. */
function namedDefinitions(events: readonly RecordedEvent[]): {
  gates: Set<string>;
  stages: Set<string>;
} {
  const gates = new Set<string>();
  const stages = new Set<string>();
  for (const event of events) {
    switch (event.type) {
      case EventTypes.GatePassed:
      case EventTypes.GateFailed:
      case EventTypes.GateReopened:
        gates.add((event.data as GateVerdictData).gateId);
        break;
      case EventTypes.StagePassed:
      case EventTypes.StageReopened: {
        const data = event.data as StageVerdictData;
        stages.add(data.stageId);
        for (const gate of data.gates) gates.add(gate.gateId);
        for (const prerequisite of data.prerequisites) stages.add(prerequisite.stageId);
        break;
      }
      case EventTypes.AttestationIssued: {
        const stage = (event.data as AttestationIssuedData).stage;
        if (stage !== undefined) stages.add(stage.stageId);
        break;
      }
    }
  }
  return { gates, stages };
}

/** Reads the unit's stream and builds every file of its export, in memory. */
export async function buildExport(
  store: EventStore,
  unitKey: string,
  options: ExportOptions,
): Promise<BuiltExport> {
  const unit = normalizeUnitKey(unitKey);
  const headPosition = await store.headPosition();
  const { events, currentRevision } = await store.readStream(unitStream(unit));
  if (currentRevision === 'no_stream' || events.length === 0)
    throw new ProvenantError('DOMAIN_UNIT_NOT_FOUND', `No events for unit ${unit}`);

  const files = new Map<string, Buffer>();
  files.set(EVENTS_FILE, Buffer.from(events.map(eventLine).join('')));

  const { gates, stages } = namedDefinitions(events);
  const definitionStreams = [
    ...[...gates].map(gateStreamName),
    ...[...stages].map(stageStreamName),
  ].sort();
  const definitionEvents: RecordedEvent[] = [];
  for (const stream of definitionStreams)
    definitionEvents.push(...(await store.readStream(stream)).events);
  definitionEvents.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  files.set(DEFINITIONS_FILE, Buffer.from(definitionEvents.map(eventLine).join('')));

  const keysById = new Map<string, string>();
  for (const pem of options.publicKeys) keysById.set(keyIdOf(createPublicKey(pem)), pem);
  const missingKeys = new Set<string>();
  const withoutBundle: string[] = [];
  let attestations = 0;
  for (const event of events) {
    if (event.type !== EventTypes.AttestationIssued) continue;
    const data = event.data as AttestationIssuedData;
    if (data.bundle === undefined) {
      withoutBundle.push(data.attestationId);
      continue;
    }
    attestations++;
    const envelope = data.bundle['dsseEnvelope'];
    if (isRecord(envelope))
      files.set(envelopePath(data.attestationId), Buffer.from(`${JSON.stringify(envelope)}\n`));
    files.set(
      bundlePath(data.attestationId),
      Buffer.from(`${JSON.stringify(data.bundle, null, 2)}\n`),
    );
    if (data.signer.kind === 'key') {
      const pem = keysById.get(data.signer.keyId);
      if (pem === undefined) missingKeys.add(data.signer.keyId);
      else files.set(keyPath(data.signer.keyId), Buffer.from(pem));
    }
  }

  if (options.transparency !== undefined)
    for (const [path, bytes] of await inclusionFiles(options.transparency, [
      ...events,
      ...definitionEvents,
    ]))
      files.set(path, bytes);

  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    unit,
    exportedAt: (options.now ?? new Date()).toISOString(),
    ...(options.principal === undefined ? {} : { exportedBy: options.principal }),
    headPosition: headPosition.toString(),
    files: [...files.keys()].sort().map((path) => {
      const bytes = files.get(path) as Buffer;
      return { path, sha256: sha256Hex(bytes), bytes: bytes.length };
    }),
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  files.set(MANIFEST_FILE, manifestBytes);
  return {
    manifest,
    files,
    manifestDigest: sha256Hex(manifestBytes),
    unitRevision: (events.at(-1) as RecordedEvent).revision,
    events: events.length,
    definitions: definitionEvents.length,
    attestations,
    missingKeys: [...missingKeys],
    withoutBundle,
  };
}

/** The order files go into an archive: the manifest first, then by path. */
export const archiveOrder = (built: BuiltExport): string[] => [
  MANIFEST_FILE,
  ...built.manifest.files.map((f) => f.path),
];

/** Writes the export's files under `dir`, which must not exist or be empty. */
function writeFolder(dir: string, built: BuiltExport): void {
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new ProvenantError('EXPORT_TARGET_EXISTS', `${dir} exists and is not empty`);
  for (const path of archiveOrder(built).reverse()) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, built.files.get(path) as Buffer, { flag: 'wx' });
  }
}

/** Packs the export as a .tar.gz: to `file`, or in memory when no file is given. */
export async function packExport(built: BuiltExport, file?: string): Promise<Buffer> {
  const staging = mkdtempSync(join(tmpdir(), 'provenant-export-'));
  try {
    writeFolder(staging, built);
    return await packFolder(
      staging,
      archiveOrder(built),
      new Date(built.manifest.exportedAt),
      file,
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Records the export as `UnitExported.v1` in the unit's stream. */
export async function recordExport(
  store: EventStore,
  built: BuiltExport,
  principal?: string,
): Promise<{ id: string; position: bigint }> {
  const event = unitExported({
    unit: built.manifest.unit,
    format: EXPORT_FORMAT,
    exportedAt: built.manifest.exportedAt,
    ...(principal === undefined ? {} : { exportedBy: principal }),
    manifestDigest: built.manifestDigest,
    headPosition: built.manifest.headPosition,
    unitRevision: built.unitRevision,
    files: built.manifest.files.length,
  });
  const result = await store.append(unitStream(built.manifest.unit), [
    { ...event, metadata: principal === undefined ? {} : { principal } },
  ]);
  const appended = result.events[0];
  if (appended === undefined) throw new Error('the UnitExported event was not appended');
  return { id: appended.id, position: appended.position };
}

/**
 * Exports a unit to `out`: a folder (created; it must not exist or be empty) or,
 * when `out` ends in `.tar.gz` or `.tgz`, an archive of the same folder. Then
 * records the export in the unit's stream. DOMAIN_UNIT_NOT_FOUND for a unit
 * without events, EXPORT_TARGET_EXISTS for a non-empty folder or an existing file.
 */
export async function exportUnit(
  store: EventStore,
  unitKey: string,
  options: ExportOptions & { out: string },
): Promise<ExportResult> {
  const archive = isArchivePath(options.out);
  if (archive && existsSync(options.out))
    throw new ProvenantError('EXPORT_TARGET_EXISTS', `${options.out} exists`);
  const built = await buildExport(store, unitKey, options);
  if (archive) {
    mkdirSync(dirname(options.out), { recursive: true });
    await packExport(built, options.out);
  } else writeFolder(options.out, built);
  const event = await recordExport(store, built, options.principal);
  const { files: _files, ...rest } = built;
  return { ...rest, out: options.out, form: archive ? 'archive' : 'folder', event };
}
