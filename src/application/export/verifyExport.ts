// Offline verification of an export (docs/export.md): a folder or a .tar.gz of
// one, checked with nothing but its own files. In order: the manifest; every
// file it lists (present, digest, size) and nothing else; each event's content
// digest and each stream's chain; every attestation against its issuing event,
// its key and its evidence; each VSA's policy against the exported definitions.
// The result lists every problem found, each with a stable code; the first one
// is the headline.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import {
  EventTypes,
  GATE_STREAM_PREFIX,
  STAGE_STREAM_PREFIX,
  isValidUnitKey,
  unitStreamName,
  type AttestationIssuedData,
  type GateDefinedData,
  type ReceiptRecordedData,
  type ReceiptRevokedData,
  type StageDefinedData,
  type StageVerdictData,
} from '../../domain/index.js';
import { canonicalize } from '../../encoding/canonicalJson.js';
import { ProvenantError, type ErrorCode } from '../../errors.js';
import { ChainWalker } from '../../eventStore/chainWalker.js';
import type { IntegrityProblem, RecordedEvent } from '../../eventStore/types.js';
import {
  SLSA_VSA_PREDICATE_TYPE,
  definitionDigest,
  parseStatement,
  receiptDigest,
  receiptUri,
  stagePolicyDigest,
  type KnownStatement,
} from '../../provenance/index.js';
import { keyIdOf } from '../../provenance/signing/index.js';
import { verifyBundle } from '../../provenance/verify/index.js';
import { isArchivePath, readArchive } from './archive.js';
import {
  DEFINITIONS_FILE,
  EVENTS_FILE,
  EXPORT_FORMAT,
  MANIFEST_FILE,
  bundlePath,
  envelopePath,
  keyPath,
  parseEventLine,
  sha256Hex,
  type ExportManifest,
  type ManifestFile,
} from './format.js';

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
const RECEIPT_URI_PREFIX = receiptUri('');

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

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
function readFolder(dir: string): { files: Map<string, Buffer>; others: string[] } {
  const files = new Map<string, Buffer>();
  const others: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true }).map(String).sort()) {
    const full = join(dir, entry);
    const path = relative(dir, full).split(sep).join('/');
    const stat = lstatSync(full);
    if (stat.isDirectory()) continue;
    if (stat.isFile()) files.set(path, readFileSync(full));
    else others.push(path);
  }
  return { files, others };
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
export async function verifyExport(path: string): Promise<VerifyExportResult> {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    throw new ProvenantError('EXPORT_UNREADABLE', `${path} does not exist`, { cause: error });
  }
  if (stat.isDirectory()) return verifyExportFiles(path, 'folder', readFolder(path));
  if (!stat.isFile() || !isArchivePath(path))
    throw new ProvenantError(
      'EXPORT_UNREADABLE',
      `${path} is neither a folder nor a .tar.gz (or .tgz) file`,
    );
  try {
    return verifyExportFiles(path, 'archive', await readArchive(path));
  } catch (error) {
    if (!(error instanceof ProvenantError) || error.code !== 'EXPORT_UNREADABLE') throw error;
    return {
      ...emptyResult(path, 'archive'),
      ok: false,
      problems: [{ code: 'EXPORT_UNREADABLE', message: error.message, path }],
    };
  }
}

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
  const unitStream = unitStreamName(manifest.unit);
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
    event.stream === unitStream
      ? undefined
      : `it is in stream ${event.stream}, not the unit's stream ${unitStream}`,
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
  return done();
}

type Report = (code: ErrorCode, message: string, path?: string) => void;

interface EventIndex {
  receipts: Map<string, { data: ReceiptRecordedData; position: bigint }>;
  revoked: Map<string, RecordedEvent>;
  byId: Map<string, RecordedEvent>;
  artifacts: Set<string>;
  definitions: Map<string, GateDefinedData | StageDefinedData>;
}

function indexEvents(events: readonly RecordedEvent[], definitions: readonly RecordedEvent[]) {
  const index: EventIndex = {
    receipts: new Map(),
    revoked: new Map(),
    byId: new Map(),
    artifacts: new Set(),
    definitions: new Map(),
  };
  for (const event of events) {
    index.byId.set(event.id, event);
    if (event.type === EventTypes.ReceiptRecorded) {
      const data = event.data as ReceiptRecordedData;
      index.receipts.set(receiptUri(data.receiptId), { data, position: event.position });
      for (const artifact of data.artifacts ?? []) {
        const sha256 = artifact.digest['sha256'];
        if (sha256 !== undefined) index.artifacts.add(sha256);
      }
    } else if (event.type === EventTypes.ReceiptRevoked)
      index.revoked.set(receiptUri((event.data as ReceiptRevokedData).receiptId), event);
  }
  for (const event of definitions) {
    if (event.type === EventTypes.GateDefined) {
      const data = event.data as GateDefinedData;
      index.definitions.set(`gate:${data.gateId}:${data.version}`, data);
    } else if (event.type === EventTypes.StageDefined) {
      const data = event.data as StageDefinedData;
      index.definitions.set(`stage:${data.stageId}:${data.version}`, data);
    }
  }
  return index;
}

/** The bundle and envelope files against the issuing event, the key, the signature. */
function checkAttestation(
  data: AttestationIssuedData,
  files: ReadonlyMap<string, Buffer>,
  listed: ReadonlySet<string>,
  problem: Report,
): KnownStatement | undefined {
  const id = data.attestationId;
  const invalid = (message: string, path?: string): undefined => {
    problem('EXPORT_ATTESTATION_INVALID', `attestation ${id}: ${message}`, path);
    return undefined;
  };
  const read = (path: string): unknown => {
    const bytes = files.get(path);
    if (bytes === undefined || !listed.has(path)) {
      problem('EXPORT_FILE_MISSING', `attestation ${id}: ${path} is missing`, path);
      return undefined;
    }
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch {
      return invalid('the file is not JSON', path);
    }
  };
  const bundleFile = bundlePath(id);
  const bundle = read(bundleFile);
  const envelope = read(envelopePath(id));
  if (bundle === undefined || envelope === undefined) return undefined;
  if (canonicalize(bundle) !== canonicalize(data.bundle))
    return invalid('the bundle is not the one its AttestationIssued event records', bundleFile);
  if (sha256Hex(canonicalize(bundle)) !== data.bundleDigest)
    return invalid('the bundle does not match the bundle digest of its event', bundleFile);
  if (!isRecord(bundle) || canonicalize(envelope) !== canonicalize(bundle['dsseEnvelope']))
    return invalid('the in-toto envelope is not the one in the bundle', envelopePath(id));

  let key: KeyObject | undefined;
  if (data.signer.kind === 'keyless')
    return invalid('keyless attestations cannot be verified offline from an export yet');
  const keyFile = keyPath(data.signer.keyId);
  const pem = files.get(keyFile);
  if (pem === undefined || !listed.has(keyFile)) {
    problem('EXPORT_KEY_MISSING', `attestation ${id}: no key ${data.signer.keyId}`, keyFile);
    return undefined;
  }
  try {
    key = createPublicKey(pem);
  } catch {
    problem('EXPORT_KEY_INVALID', `${keyFile} is not a PEM public key`, keyFile);
    return undefined;
  }
  if (keyIdOf(key) !== data.signer.keyId) {
    problem('EXPORT_KEY_INVALID', `${keyFile} holds key ${keyIdOf(key)}`, keyFile);
    return undefined;
  }
  let payload: Buffer | undefined;
  try {
    payload = verifyBundle(bundle, { publicKey: key }).payload;
  } catch (error) {
    const code = isRecord(error) && typeof error['code'] === 'string' ? `${error['code']}: ` : '';
    return invalid(
      `the bundle does not verify (${code}${error instanceof Error ? error.message : String(error)})`,
      bundleFile,
    );
  }
  if (payload === undefined) return invalid('the bundle holds no DSSE payload', bundleFile);
  if (sha256Hex(payload) !== data.statementDigest)
    return invalid('the signed statement does not match the statement digest of its event');
  let statement: KnownStatement;
  try {
    statement = parseStatement(JSON.parse(payload.toString('utf8')));
  } catch (error) {
    return invalid(`the signed payload is not a statement (${String(error)})`);
  }
  if (statement.predicateType !== data.predicateType)
    return invalid(`the statement's predicate type is not ${data.predicateType}`);
  return statement;
}

/** A receipt an attestation relies on: by URI, with the digest it names it by. */
interface ReceiptRef {
  uri: string;
  digest: string;
  /** The statement itself says the receipt was revoked (provenance byproducts). */
  revokedInStatement: boolean;
}

function statementReceipts(statement: KnownStatement): ReceiptRef[] {
  const refs: ReceiptRef[] = [];
  const predicate = statement.predicate as Record<string, unknown>;
  const candidates: unknown[] = [];
  const runDetails = predicate['runDetails'];
  if (isRecord(runDetails) && Array.isArray(runDetails['byproducts']))
    candidates.push(...(runDetails['byproducts'] as unknown[]));
  if (Array.isArray(predicate['inputAttestations']))
    candidates.push(...(predicate['inputAttestations'] as unknown[]));
  for (const candidate of candidates) {
    if (!isRecord(candidate)) continue;
    const { uri, digest, annotations } = candidate;
    if (typeof uri !== 'string' || !uri.startsWith(RECEIPT_URI_PREFIX) || !isRecord(digest))
      continue;
    refs.push({
      uri,
      digest: String(digest['sha256']),
      revokedInStatement: isRecord(annotations) && annotations['revoked'] !== undefined,
    });
  }
  return refs;
}

/** Subjects, receipts and (for a VSA) policy against the exported events and definitions. */
function checkEvidence(
  data: AttestationIssuedData,
  statement: KnownStatement,
  event: RecordedEvent,
  index: EventIndex,
  problem: Report,
): void {
  const id = data.attestationId;
  const missing = (message: string): void =>
    problem('EXPORT_EVIDENCE_MISSING', `attestation ${id}: ${message}`, EVENTS_FILE);
  for (const subject of statement.subject) {
    const sha256 = subject.digest['sha256'];
    if (sha256 === undefined || !index.artifacts.has(sha256))
      missing(
        `subject ${subject.name ?? sha256 ?? '?'} is not an artifact of any exported receipt`,
      );
  }
  const refs = statementReceipts(statement);
  const marked = new Set(refs.filter((r) => r.revokedInStatement).map((r) => r.uri));
  for (const r of data.receipts)
    refs.push({
      uri: receiptUri(r.receiptId),
      digest: r.digest,
      revokedInStatement: marked.has(receiptUri(r.receiptId)),
    });
  for (const ref of refs) {
    const receipt = index.receipts.get(ref.uri);
    if (receipt === undefined) {
      missing(`${ref.uri} is not in ${EVENTS_FILE}`);
      continue;
    }
    if (receipt.position > event.position) missing(`${ref.uri} was recorded after the attestation`);
    if (receiptDigest(receipt.data) !== ref.digest)
      missing(`${ref.uri} does not have the digest the attestation names it by`);
    const revocation = index.revoked.get(ref.uri);
    if (revocation !== undefined && !ref.revokedInStatement)
      problem(
        'EXPORT_EVIDENCE_REVOKED',
        `attestation ${id}: it relies on ${ref.uri}, revoked by event ${revocation.id}`,
        EVENTS_FILE,
      );
  }
  if (statement.predicateType !== SLSA_VSA_PREDICATE_TYPE || data.stage === undefined) return;

  const predicate = statement.predicate as {
    verificationResult: string;
    policy: { uri?: string; digest?: Record<string, string> };
  };
  if ((predicate.verificationResult === 'PASSED') !== data.stage.passed)
    problem(
      'EXPORT_ATTESTATION_INVALID',
      `attestation ${id}: the VSA says ${predicate.verificationResult}, its event says passed=${data.stage.passed}`,
    );
  const verdict = index.byId.get(data.stage.verdictEventId);
  if (
    verdict === undefined ||
    (verdict.type !== EventTypes.StagePassed && verdict.type !== EventTypes.StageReopened)
  ) {
    missing(`its stage verdict ${data.stage.verdictEventId} is not in ${EVENTS_FILE}`);
    return;
  }
  const verdictData = verdict.data as StageVerdictData;
  const stage = index.definitions.get(`stage:${data.stage.stageId}:${data.stage.stageVersion}`);
  if (verdictData.stageId !== data.stage.stageId || stage === undefined) {
    missing(
      `the definition of stage ${data.stage.stageId} v${data.stage.stageVersion} is not in ${DEFINITIONS_FILE}`,
    );
    return;
  }
  const gates = [];
  for (const gate of verdictData.gates) {
    const definition = index.definitions.get(`gate:${gate.gateId}:${gate.gateVersion}`);
    if (definition === undefined) {
      missing(
        `the definition of gate ${gate.gateId} v${gate.gateVersion} is not in ${DEFINITIONS_FILE}`,
      );
      return;
    }
    gates.push({
      gateId: gate.gateId,
      gateVersion: gate.gateVersion,
      definitionDigest: definitionDigest(definition),
    });
  }
  const recomputed = stagePolicyDigest({
    stageId: data.stage.stageId,
    stageVersion: data.stage.stageVersion,
    stageDefinitionDigest: definitionDigest(stage),
    gates,
  });
  if (predicate.policy.digest?.['sha256'] !== recomputed)
    problem(
      'EXPORT_POLICY_MISMATCH',
      `attestation ${id}: policy digest ${predicate.policy.digest?.['sha256'] ?? '(none)'} is not ${recomputed}, recomputed from ${DEFINITIONS_FILE}`,
      DEFINITIONS_FILE,
    );
}
