// Offline verification of an export (docs/export.md): a folder or a .tar.gz of
// one, checked with nothing but its own files. In order: the manifest; every
// file it lists (present, digest, size) and nothing else; each event's content
// digest and each stream's chain; every attestation against its issuing event,
// its key and its evidence; each VSA's policy against the exported definitions;
// the Merkle log: each event under the exported checkpoint, which extends the
// checkpoint each attestation recorded.
// The result lists every problem found, each with a stable code; the first one
// is the headline. The attestation checks are in attestationChecks.ts.
import { unitStream } from '../unitStreams.js';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import {
  EventTypes,
  GATE_STREAM_PREFIX,
  STAGE_STREAM_PREFIX,
  isValidUnitKey,
  type AttestationIssuedData,
} from '../../domain/index.js';
import { ProvenantError, type ErrorCode } from '../../errors.js';
import { ChainWalker } from '../../eventStore/chainWalker.js';
import type { IntegrityProblem, RecordedEvent } from '../../eventStore/types.js';
import { EXPORT_MAX_BYTES, isArchivePath, readArchive, tooLarge } from './archive.js';
import {
  DEFINITIONS_FILE,
  EVENTS_FILE,
  EXPORT_FORMAT,
  MANIFEST_FILE,
  parseEventLine,
  sha256Hex,
  type ExportManifest,
  type ManifestFile,
  isRecord,
} from './format.js';
import { checkAttestation, checkEvidence, indexEvents } from './attestationChecks.js';
import { checkAttestationCheckpoints } from './attestationCheckpoints.js';
import { checkInclusions } from './inclusion.js';

/** One thing wrong with an export. */
export interface ExportProblem {
  code: ErrorCode;
  message: string;
  /** The file it is in, when it is in one. */
  path?: string;
}

/** What verification found about one attestation. */
export interface AttestationCheck {
  attestationId: string;
  kind: string;
  predicateType: string;
  /** True when the bundle verified and its evidence and policy checked out. */
  verified: boolean;
  /** VSA: the verificationResult it states. */
  verificationResult?: string;
}

export interface VerifyExportResult {
  ok: boolean;
  /** The folder or archive verified. */
  source: string;
  form: 'folder' | 'archive';
  unit?: string;
  exportedAt?: string;
  exportedBy?: string;
  /** SHA-256 of manifest.json: compare it with the UnitExported.v1 event in the store. */
  manifestSha256?: string;
  checked: { files: number; events: number; definitions: number; attestations: number };
  attestations: AttestationCheck[];
  /** Every problem, in the order checked; the first is the headline. Empty when ok. */
  problems: ExportProblem[];
  /** Things that are not problems but were not checked (e.g. attestations exported without a bundle). */
  notes: string[];
}

const SHA256 = /^[0-9a-f]{64}$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

const safePath = (path: string): boolean =>
  path.length > 0 &&
  !path.startsWith('/') &&
  !path.includes('\\') &&
  path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');

/** The manifest, checked, or the message saying what is wrong with it. */
function parseManifest(bytes: Buffer): ExportManifest | string {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'manifest.json is not JSON';
  }
  if (!isRecord(value)) return 'manifest.json is not a JSON object';
  const { format, unit, exportedAt, exportedBy, headPosition, files } = value;
  if (format !== EXPORT_FORMAT) return `format is ${JSON.stringify(format)}, not ${EXPORT_FORMAT}`;
  if (!isValidUnitKey(unit)) return 'unit is not a unit key';
  if (typeof exportedAt !== 'string' || Number.isNaN(Date.parse(exportedAt)))
    return 'exportedAt is not a time';
  if (exportedBy !== undefined && typeof exportedBy !== 'string')
    return 'exportedBy is not a string';
  if (typeof headPosition !== 'string' || !DECIMAL.test(headPosition))
    return 'headPosition is not a decimal string';
  if (!Array.isArray(files)) return 'files is not an array';
  const seen = new Set<string>();
  const checked: ManifestFile[] = [];
  for (const [i, file] of files.entries()) {
    if (!isRecord(file)) return `files[${i}] is not an object`;
    const { path, sha256, bytes: size } = file;
    if (typeof path !== 'string' || !safePath(path) || path === MANIFEST_FILE)
      return `files[${i}].path is not a relative path of the export`;
    if (seen.has(path)) return `${path} is listed twice`;
    seen.add(path);
    if (typeof sha256 !== 'string' || !SHA256.test(sha256))
      return `files[${i}].sha256 is not SHA-256 hex`;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      return `files[${i}].bytes is not a size`;
    checked.push({ path, sha256, bytes: size });
  }
  return {
    format: EXPORT_FORMAT,
    unit: unit as string,
    exportedAt,
    ...(exportedBy === undefined ? {} : { exportedBy }),
    headPosition,
    files: checked,
  };
}

/** Every regular file under `dir` by relative path; anything else (links, devices) in `others`. */
function readFolder(
  dir: string,
  maxBytes: number,
): { files: Map<string, Buffer>; others: string[] } {
  const files = new Map<string, Buffer>();
  const others: string[] = [];
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true }).map(String).sort()) {
    const full = join(dir, entry);
    const path = relative(dir, full).split(sep).join('/');
    const stat = lstatSync(full);
    if (stat.isDirectory()) continue;
    if (!stat.isFile()) {
      others.push(path);
      continue;
    }
    total += stat.size;
    if (total > maxBytes) throw tooLarge(dir, maxBytes);
    files.set(path, readFileSync(full));
  }
  return { files, others };
}

/** How much of an export is read into memory at most. */
export interface ReadExportOptions {
  /** Bytes, uncompressed (default EXPORT_MAX_BYTES, 1 GiB): a larger export is EXPORT_UNREADABLE. */
  maxBytes?: number;
}

const chainCode = (problem: IntegrityProblem): ErrorCode =>
  problem.kind === 'content-digest-mismatch'
    ? 'EXPORT_CONTENT_DIGEST_MISMATCH'
    : problem.kind === 'unreadable'
      ? 'EXPORT_EVENT_INVALID'
      : 'EXPORT_CHAIN_BROKEN';

/**
 * Verifies the export at `path` (a folder, or a .tar.gz archive). Never throws
 * for a damaged export: every problem is in the result. Throws EXPORT_UNREADABLE
 * only when `path` is neither a folder nor a file.
 */
export async function verifyExport(
  path: string,
  options: ReadExportOptions = {},
): Promise<VerifyExportResult> {
  const form = exportForm(path);
  try {
    return verifyExportFiles(path, form, await readContents(path, form, options));
  } catch (error) {
    if (!(error instanceof ProvenantError) || error.code !== 'EXPORT_UNREADABLE') throw error;
    return {
      ...emptyResult(path, form),
      ok: false,
      problems: [{ code: 'EXPORT_UNREADABLE', message: error.message, path }],
    };
  }
}

/** Whether `path` is an export folder or archive; EXPORT_UNREADABLE when it is neither. */
function exportForm(path: string): 'folder' | 'archive' {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    throw new ProvenantError('EXPORT_UNREADABLE', `${path} does not exist`, { cause: error });
  }
  if (stat.isDirectory()) return 'folder';
  if (!stat.isFile() || !isArchivePath(path))
    throw new ProvenantError(
      'EXPORT_UNREADABLE',
      `${path} is neither a folder nor a .tar.gz (or .tgz) file`,
    );
  return 'archive';
}

/** The files of an export (a folder or a .tar.gz); EXPORT_UNREADABLE when they cannot be read. */
export async function readExport(
  path: string,
  options: ReadExportOptions = {},
): Promise<{
  form: 'folder' | 'archive';
  contents: { files: ReadonlyMap<string, Buffer>; others: readonly string[] };
}> {
  const form = exportForm(path);
  return { form, contents: await readContents(path, form, options) };
}

const readContents = async (
  path: string,
  form: 'folder' | 'archive',
  { maxBytes = EXPORT_MAX_BYTES }: ReadExportOptions,
): Promise<{ files: Map<string, Buffer>; others: string[] }> =>
  form === 'folder' ? readFolder(path, maxBytes) : readArchive(path, maxBytes);

const emptyResult = (source: string, form: 'folder' | 'archive'): VerifyExportResult => ({
  ok: true,
  source,
  form,
  checked: { files: 0, events: 0, definitions: 0, attestations: 0 },
  attestations: [],
  problems: [],
  notes: [],
});

/** Verifies an export's files, already read (see verifyExport). */
export function verifyExportFiles(
  source: string,
  form: 'folder' | 'archive',
  contents: { files: ReadonlyMap<string, Buffer>; others: readonly string[] },
): VerifyExportResult {
  const result = emptyResult(source, form);
  const problem = (code: ErrorCode, message: string, path?: string): void => {
    result.problems.push({ code, message, ...(path === undefined ? {} : { path }) });
  };
  const done = (): VerifyExportResult => ({ ...result, ok: result.problems.length === 0 });
  const { files } = contents;

  // 1. The manifest.
  const manifestBytes = files.get(MANIFEST_FILE);
  if (manifestBytes === undefined) {
    problem('EXPORT_MANIFEST_MISSING', 'the export has no manifest.json', MANIFEST_FILE);
    return done();
  }
  result.manifestSha256 = sha256Hex(manifestBytes);
  const manifest = parseManifest(manifestBytes);
  if (typeof manifest === 'string') {
    problem('EXPORT_MANIFEST_INVALID', manifest, MANIFEST_FILE);
    return done();
  }
  result.unit = manifest.unit;
  result.exportedAt = manifest.exportedAt;
  if (manifest.exportedBy !== undefined) result.exportedBy = manifest.exportedBy;

  // 2. Every listed file present, with its digest and size; nothing else.
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const required of [EVENTS_FILE, DEFINITIONS_FILE])
    if (!listed.has(required))
      problem('EXPORT_FILE_MISSING', `the manifest does not list ${required}`, required);
  for (const file of manifest.files) {
    const bytes = files.get(file.path);
    if (bytes === undefined) {
      problem(
        'EXPORT_FILE_MISSING',
        `${file.path} is listed in the manifest but absent`,
        file.path,
      );
      continue;
    }
    result.checked.files++;
    if (bytes.length !== file.bytes || sha256Hex(bytes) !== file.sha256)
      problem(
        'EXPORT_DIGEST_MISMATCH',
        `${file.path} is not the file the manifest lists (${bytes.length} bytes, sha256 ${sha256Hex(bytes)}; listed: ${file.bytes} bytes, ${file.sha256})`,
        file.path,
      );
  }
  for (const path of files.keys())
    if (path !== MANIFEST_FILE && !listed.has(path))
      problem('EXPORT_EXTRA_FILE', `${path} is not listed in the manifest`, path);
  for (const path of contents.others)
    problem('EXPORT_EXTRA_FILE', `${path} is not a regular file`, path);

  // 3. Events: content digests and stream chains.
  const headPosition = BigInt(manifest.headPosition);
  const unitStreamOfManifest = unitStream(manifest.unit);
  const readEvents = (
    path: string,
    belongs: (event: RecordedEvent) => string | undefined,
  ): RecordedEvent[] => {
    const bytes = files.get(path);
    if (bytes === undefined) return [];
    const walker = new ChainWalker();
    const events: RecordedEvent[] = [];
    const lines = bytes.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const [i, line] of lines.entries()) {
      const where = `${path} line ${i + 1}`;
      const event = parseEventLine(line);
      if (typeof event === 'string') {
        problem('EXPORT_EVENT_INVALID', `${where}: ${event}`, path);
        return events;
      }
      const misplaced =
        belongs(event) ??
        (event.position > headPosition
          ? `position ${event.position} is after the export's head position ${headPosition}`
          : undefined);
      if (misplaced !== undefined) {
        problem('EXPORT_EVENT_INVALID', `${where} (${event.id}): ${misplaced}`, path);
        return events;
      }
      const broken = walker.check(event);
      if (broken !== undefined) {
        problem(chainCode(broken), `${where} (${event.id}): ${broken.message}`, path);
        return events;
      }
      events.push(event);
    }
    return events;
  };
  const events = readEvents(EVENTS_FILE, (event) =>
    event.stream === unitStreamOfManifest
      ? undefined
      : `it is in stream ${event.stream}, not the unit's stream ${unitStreamOfManifest}`,
  );
  if (files.has(EVENTS_FILE) && events.length === 0 && result.problems.length === 0)
    problem('EXPORT_EVENT_INVALID', `${EVENTS_FILE} holds no events`, EVENTS_FILE);
  result.checked.events = events.length;
  const definitions = readEvents(DEFINITIONS_FILE, (event) =>
    event.stream.startsWith(GATE_STREAM_PREFIX) || event.stream.startsWith(STAGE_STREAM_PREFIX)
      ? undefined
      : `stream ${event.stream} is not a gate or stage definition stream`,
  );
  result.checked.definitions = definitions.length;

  // 4. Attestations.
  const index = indexEvents(events, definitions);
  for (const event of events) {
    if (event.type !== EventTypes.AttestationIssued) continue;
    const data = event.data as AttestationIssuedData;
    result.checked.attestations++;
    const check: AttestationCheck = {
      attestationId: data.attestationId,
      kind: data.kind,
      predicateType: data.predicateType,
      verified: false,
    };
    result.attestations.push(check);
    if (data.bundle === undefined) {
      result.notes.push(
        `attestation ${data.attestationId} was recorded without its bundle (too large for one event): not exported, not verified`,
      );
      continue;
    }
    const before = result.problems.length;
    const statement = checkAttestation(data, files, listed, problem);
    if (statement !== undefined) {
      checkEvidence(data, statement, event, index, problem);
      if ('verificationResult' in statement.predicate)
        check.verificationResult = String(statement.predicate.verificationResult);
    }
    check.verified = statement !== undefined && result.problems.length === before;
  }

  // 5. Every event included under the exported signed checkpoint (the Merkle log),
  // which extends each checkpoint an attestation recorded.
  const notes = (message: string): void => {
    result.notes.push(message);
  };
  const checkpoint = checkInclusions(files, [...events, ...definitions], problem, notes);
  checkAttestationCheckpoints(files, events, checkpoint, problem, notes);
  return done();
}
