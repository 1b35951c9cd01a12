// Issuing attestations in-process, as the issuing use case does (issue 14): read
// the unit's stream, build the statement (SLSA provenance or a stage's VSA), sign
// it as a DSSE envelope in a Sigstore bundle with a local key, and append
// AttestationIssued.v1 to the unit's stream through the port. For export tests,
// the benchmark and the demo, which must not depend on the issuing code.
import { createHash } from 'node:crypto';
import {
  EventTypes,
  attestationIssued,
  gateStreamName,
  stageStreamName,
  unitStreamName,
  type AttestationIssuedData,
  type GateDefinedData,
  type ReceiptRecordedData,
  type ReceiptRevokedData,
  type StageDefinedData,
  type StageVerdictData,
} from '../../src/domain/index.js';
import { canonicalize } from '../../src/encoding/canonicalJson.js';
import { newEventId } from '../../src/eventStore/ids.js';
import type { EventStore, RecordedEvent } from '../../src/eventStore/types.js';
import {
  STATEMENT_PAYLOAD_TYPE,
  buildProvenance,
  buildVsa,
  definitionDigest,
  receiptDigest,
  serializeStatement,
  unitSubjects,
  type ChainReceipt,
  type KnownStatement,
  type UnitReceiptChain,
} from '../../src/provenance/index.js';
import {
  signDsse,
  type LocalKeySigner,
  type SerializedBundle,
} from '../../src/provenance/signing/index.js';

export const BUILDER_ID = 'https://provenant.dev/builders/receipt-chain@v1';
export const VERIFIER_ID = 'https://provenant.dev/verifiers/stage@v1';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The unit's receipt chain from its stream's events (revocations folded in). */
export function receiptChain(unit: string, events: readonly RecordedEvent[]): UnitReceiptChain {
  const receipts = new Map<string, ChainReceipt>();
  for (const event of events) {
    if (event.type === EventTypes.ReceiptRecorded) {
      const data = event.data as ReceiptRecordedData;
      receipts.set(data.receiptId, {
        eventId: event.id,
        position: event.position.toString(),
        recordedAt: event.recordedAt,
        data,
      });
    } else if (event.type === EventTypes.ReceiptRevoked) {
      const data = event.data as ReceiptRevokedData;
      const receipt = receipts.get(data.receiptId);
      if (receipt !== undefined)
        receipts.set(data.receiptId, {
          ...receipt,
          revoked: {
            reason: data.reason,
            ...(data.revokedBy === undefined ? {} : { revokedBy: data.revokedBy }),
            eventId: event.id,
            recordedAt: event.recordedAt,
          },
        });
    }
  }
  return { unit, receipts: [...receipts.values()] };
}

export interface IssueOptions {
  signer: LocalKeySigner;
  /** `provenance`, or the VSA of the latest verdict of this stage. */
  kind: 'provenance' | { vsaOf: string };
  requestedBy?: string;
}

export interface Issued {
  attestationId: string;
  statement: KnownStatement;
  bundle: SerializedBundle;
  event: AttestationIssuedData;
}

async function definition<T>(store: EventStore, stream: string, version: number): Promise<T> {
  const { events } = await store.readStream(stream);
  const found = events.find((e) => (e.data as { version?: number }).version === version);
  if (found === undefined) throw new Error(`${stream} has no version ${version}`);
  return found.data as T;
}

/** Builds, signs and records one attestation for `unit`. */
export async function issueLocally(
  store: EventStore,
  unit: string,
  options: IssueOptions,
): Promise<Issued> {
  const stream = unitStreamName(unit);
  const { events } = await store.readStream(stream);
  const chain = receiptChain(unit, events);
  let statement: KnownStatement;
  let receipts: { receiptId: string; digest: string }[];
  let stage: AttestationIssuedData['stage'];
  if (options.kind === 'provenance') {
    statement = buildProvenance(chain, { builderId: BUILDER_ID });
    receipts = chain.receipts
      .filter((r) => r.revoked === undefined)
      .map((r) => ({ receiptId: r.data.receiptId, digest: receiptDigest(r.data) }));
  } else {
    const stageId = options.kind.vsaOf;
    const verdict = events.findLast(
      (e) =>
        (e.type === EventTypes.StagePassed || e.type === EventTypes.StageReopened) &&
        (e.data as StageVerdictData).stageId === stageId,
    );
    if (verdict === undefined) throw new Error(`no verdict of stage ${stageId} for ${unit}`);
    const data = verdict.data as StageVerdictData;
    const stageDefinition = await definition<StageDefinedData>(
      store,
      stageStreamName(stageId),
      data.stageVersion,
    );
    const gates = [];
    for (const gate of data.gates)
      gates.push({
        gateId: gate.gateId,
        gateVersion: gate.gateVersion,
        definitionDigest: definitionDigest(
          await definition<GateDefinedData>(store, gateStreamName(gate.gateId), gate.gateVersion),
        ),
      });
    const byId = new Map(chain.receipts.map((r) => [r.data.receiptId, r.data]));
    receipts = data.receiptIds.map((receiptId) => ({
      receiptId,
      digest: receiptDigest(byId.get(receiptId) as ReceiptRecordedData),
    }));
    statement = buildVsa({
      unit,
      stageId,
      stageVersion: data.stageVersion,
      passed: data.passed,
      gates,
      stageDefinitionDigest: definitionDigest(stageDefinition),
      receipts,
      timeVerified: verdict.recordedAt,
      verifierId: VERIFIER_ID,
      subjects: unitSubjects(chain),
    });
    stage = {
      stageId,
      stageVersion: data.stageVersion,
      passed: data.passed,
      verdictEventId: verdict.id,
    };
  }
  const payload = serializeStatement(statement);
  const bundle = await signDsse(Buffer.from(payload), STATEMENT_PAYLOAD_TYPE, options.signer);
  const attestationId = newEventId();
  const event = attestationIssued({
    attestationId,
    unit,
    kind: options.kind === 'provenance' ? 'provenance' : 'vsa',
    predicateType: statement.predicateType,
    statementDigest: sha256(payload),
    bundleDigest: sha256(canonicalize(bundle)),
    subjects: statement.subject.map((s) => ({
      ...(s.name === undefined ? {} : { name: s.name }),
      digest: { ...s.digest },
    })),
    receipts,
    ...(stage === undefined ? {} : { stage }),
    signer: { kind: 'key', keyId: options.signer.keyId },
    trigger: {
      kind: 'request',
      ...(options.requestedBy === undefined ? {} : { requestedBy: options.requestedBy }),
    },
    bundle: bundle,
  });
  await store.append(stream, [
    {
      ...event,
      metadata: options.requestedBy === undefined ? {} : { principal: options.requestedBy },
    },
  ]);
  return { attestationId, statement, bundle, event: event.data };
}
