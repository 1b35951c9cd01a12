// The attestation checks of verify-export (docs/export.md): each bundle and
// envelope against its issuing event, its key and its signature; the receipts
// and artifacts its statement relies on against the exported events; and a
// VSA's policy against the exported definitions. verifyExport.ts runs them
// after the manifest, file and chain checks.
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  EventTypes,
  type AttestationIssuedData,
  type GateDefinedData,
  type ReceiptRecordedData,
  type ReceiptRevokedData,
  type StageDefinedData,
  type StageVerdictData,
} from '../../domain/index.js';
import { canonicalize } from '../../encoding/canonicalJson.js';
import { type ErrorCode } from '../../errors.js';
import type { RecordedEvent } from '../../eventStore/types.js';
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
import {
  DEFINITIONS_FILE,
  EVENTS_FILE,
  bundlePath,
  envelopePath,
  keyPath,
  sha256Hex,
  isRecord,
} from './format.js';

const RECEIPT_URI_PREFIX = receiptUri('');

export type Report = (code: ErrorCode, message: string, path?: string) => void;

export interface EventIndex {
  receipts: Map<string, { data: ReceiptRecordedData; position: bigint }>;
  revoked: Map<string, RecordedEvent>;
  byId: Map<string, RecordedEvent>;
  artifacts: Set<string>;
  definitions: Map<string, GateDefinedData | StageDefinedData>;
}

export function indexEvents(
  events: readonly RecordedEvent[],
  definitions: readonly RecordedEvent[],
) {
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
export function checkAttestation(
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
export function checkEvidence(
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
