// Issuing an attestation for a unit (issue 14): read the unit's stream, build the
// statement (src/provenance, pure), serialise it canonically, sign it as a DSSE
// envelope in a Sigstore bundle, and append `AttestationIssued.v1` to the unit's
// stream with the lookup key `attestation:<id>` — the bundle inline when the
// event stays under the event size limit.
import { unitStream } from '../unitStreams.js';
import { createHash, X509Certificate } from 'node:crypto';
import { attestationIssued } from '../../domain/attestation.js';
import {
  EventTypes,
  type AttestationIssuedData,
  type AttestationKind,
  type StageVerdictData,
} from '../../domain/events.js';
import { normalizeUnitKey } from '../../domain/unitKey.js';
import { canonicalize } from '../../encoding/canonicalJson.js';
import { ProvenantError } from '../../errors.js';
import type { EventStore, RecordedEvent } from '../../eventStore/types.js';
import {
  STATEMENT_PAYLOAD_TYPE,
  buildProvenance,
  buildTestResult,
  buildVsa,
  receiptDigest,
  serializeStatement,
  unitSubjects,
  type KnownStatement,
} from '../../provenance/index.js';
import { signDsse } from '../../provenance/signing/index.js';
import { verdictPolicy } from './definitionDigests.js';
import { receiptChainOf } from './receiptChain.js';
import { receiptLookupKey } from '../context.js';
import type { TransparencyService } from '../../transparency/service.js';
import type {
  AttestationSigning,
  IssueAttestationOptions,
  IssueAttestationRequest,
  IssuedAttestation,
} from './types.js';

/** The lookup key of an attestation's event. */
export const attestationLookupKey = (attestationId: string): string =>
  `attestation:${attestationId}`;

/** Idempotency (and lookup) key of the VSA issued for one StagePassed event. */
export const stagePassedKey = (eventId: string): string => `attestation:stage-passed:${eventId}`;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export interface IssuerConfig {
  store: EventStore;
  signing: AttestationSigning | undefined;
  builderId: string;
  verifierId: string;
  version: string | undefined;
  maxEventBytes: number;
  newAttestationId: () => string;
  transparency?: TransparencyService;
}

/**
 * The latest checkpoint and the leaf index of each receipt's event under it;
 * undefined without a Merkle log or before its first checkpoint.
 */
async function logReferences(
  config: IssuerConfig,
  receipts: readonly { receiptId: string }[],
): Promise<AttestationIssuedData['log']> {
  if (config.transparency === undefined) return undefined;
  let checkpoint;
  try {
    checkpoint = await config.transparency.latestCheckpoint();
  } catch {
    return undefined; // no checkpoint yet
  }
  const leaves: { receiptId: string; leafIndex: number }[] = [];
  for (const { receiptId } of receipts) {
    const location = await config.store.findByKey(receiptLookupKey(receiptId));
    if (location === undefined) continue;
    try {
      const proof = await config.transparency.inclusionByPosition(
        location.position,
        checkpoint.size,
      );
      leaves.push({ receiptId, leafIndex: proof.leafIndex });
    } catch {
      // newer than the checkpoint, or not yet a leaf
    }
  }
  return { checkpoint: checkpoint.note, treeSize: checkpoint.size, receipts: leaves };
}

type Trigger = AttestationIssuedData['trigger'];

interface Built {
  statement: KnownStatement;
  receipts: { receiptId: string; digest: string }[];
  stage?: AttestationIssuedData['stage'];
  receiptId?: string;
}

const isVerdict = (e: RecordedEvent): boolean =>
  e.type === EventTypes.StagePassed || e.type === EventTypes.StageReopened;

/** Builds the statement of `request` from the unit's recorded events. */
async function buildStatement(
  config: IssuerConfig,
  unit: string,
  events: readonly RecordedEvent[],
  request: IssueAttestationRequest,
  verdictEventId: string | undefined,
): Promise<Built> {
  const versions: Record<string, string> | undefined =
    config.version === undefined ? undefined : { provenant: config.version };
  if (request.kind === 'provenance') {
    const chain = receiptChainOf(unit, events);
    const statement = buildProvenance(chain, {
      builderId: config.builderId,
      ...(versions === undefined ? {} : { builderVersion: versions }),
    });
    return {
      statement,
      receipts: chain.receipts.map((r) => ({
        receiptId: r.data.receiptId,
        digest: receiptDigest(r.data),
      })),
    };
  }
  if (request.kind === 'test-result') {
    const receiptId = request.receiptId;
    if (receiptId === undefined)
      throw new ProvenantError('ATTEST_INVALID_REQUEST', 'A test result names its receiptId');
    const chain = receiptChainOf(unit, events);
    const receipt = chain.receipts.find((r) => r.data.receiptId === receiptId);
    if (receipt === undefined)
      throw new ProvenantError(
        'DOMAIN_RECEIPT_NOT_FOUND',
        `Receipt '${receiptId}' is not a receipt of unit '${unit}'`,
        { details: { receiptId, unit } },
      );
    const statement = buildTestResult(receipt, { subjects: unitSubjects(chain) });
    return {
      statement,
      receipts: [{ receiptId, digest: receiptDigest(receipt.data) }],
      receiptId,
    };
  }
  // VSA: the verdict event named, or else the unit's latest verdict for the stage.
  const stageId = request.stageId;
  if (stageId === undefined && verdictEventId === undefined)
    throw new ProvenantError('ATTEST_INVALID_REQUEST', 'A VSA names its stageId');
  const index =
    verdictEventId !== undefined
      ? events.findIndex((e) => e.id === verdictEventId && isVerdict(e))
      : events.findLastIndex(
          (e) => isVerdict(e) && (e.data as StageVerdictData).stageId === stageId,
        );
  const verdictEvent = index < 0 ? undefined : events[index];
  if (verdictEvent === undefined)
    throw new ProvenantError(
      'ATTEST_NO_STAGE_VERDICT',
      `Unit '${unit}' has no verdict for stage '${stageId ?? '?'}': it never passed it`,
      { details: { unit, stageId } },
    );
  const verdict = verdictEvent.data as StageVerdictData;
  // The chain as the verdict saw it: nothing recorded after the verdict.
  const chain = receiptChainOf(unit, events.slice(0, index + 1));
  const digests = new Map(chain.receipts.map((r) => [r.data.receiptId, receiptDigest(r.data)]));
  const receipts = verdict.receiptIds.map((receiptId) => {
    const digest = digests.get(receiptId);
    if (digest === undefined)
      throw new ProvenantError(
        'INTERNAL',
        `Verdict ${verdictEvent.id} counts receipt ${receiptId}, which is not in the unit's stream before it`,
      );
    return { receiptId, digest };
  });
  const policy = await verdictPolicy(config.store, verdict);
  const statement = buildVsa({
    unit,
    stageId: verdict.stageId,
    stageVersion: verdict.stageVersion,
    passed: verdict.passed,
    gates: policy.gates,
    stageDefinitionDigest: policy.stageDefinitionDigest,
    receipts,
    timeVerified: verdictEvent.recordedAt,
    verifierId: config.verifierId,
    ...(versions === undefined ? {} : { verifierVersion: versions }),
    subjects: unitSubjects(chain),
  });
  return {
    statement,
    receipts,
    stage: {
      stageId: verdict.stageId,
      stageVersion: verdict.stageVersion,
      passed: verdict.passed,
      verdictEventId: verdictEvent.id,
    },
  };
}

/** The signer to record: the key, or the keyless certificate's identity (its SAN). */
function signerOf(
  signing: AttestationSigning,
  bundle: Record<string, unknown>,
): AttestationIssuedData['signer'] {
  if (signing.identity.kind === 'key' || signing.identity.identity !== undefined)
    return signing.identity;
  const material = bundle['verificationMaterial'] as
    | {
        certificate?: { rawBytes?: string };
        x509CertificateChain?: { certificates?: { rawBytes?: string }[] };
      }
    | undefined;
  const raw =
    material?.certificate?.rawBytes ?? material?.x509CertificateChain?.certificates?.[0]?.rawBytes;
  if (raw === undefined) return { kind: 'keyless' };
  try {
    const san = new X509Certificate(Buffer.from(raw, 'base64')).subjectAltName;
    const identity = san
      ?.split(', ')[0]
      ?.replace(/^(?:email|URI|DNS):/, '')
      .slice(0, 2048);
    return identity ? { kind: 'keyless', identity } : { kind: 'keyless' };
  } catch {
    return { kind: 'keyless' };
  }
}

/** The summary of an already recorded AttestationIssued event, as an issue result. */
function issuedFrom(event: RecordedEvent, duplicate: boolean): IssuedAttestation {
  const data = event.data as AttestationIssuedData;
  return {
    attestationId: data.attestationId,
    unit: data.unit,
    kind: data.kind,
    predicateType: data.predicateType,
    eventId: event.id,
    position: event.position.toString(),
    statementDigest: data.statementDigest,
    bundleDigest: data.bundleDigest,
    ...(data.signer.kind === 'key' ? { keyId: data.signer.keyId } : {}),
    bundleRetained: data.bundle !== undefined,
    duplicate,
    bundle: data.bundle,
  };
}

/** Issues one attestation: build, sign, append. */
async function issue(
  config: IssuerConfig,
  unitKey: string,
  request: IssueAttestationRequest,
  trigger: Trigger,
  verdictEventId?: string,
): Promise<IssuedAttestation> {
  const signing = config.signing;
  if (signing === undefined)
    throw new ProvenantError(
      'ATTEST_SIGNING_NOT_CONFIGURED',
      'This server has no signing key: set PROVENANT_SIGNING_KEY',
    );
  const kinds: readonly AttestationKind[] = ['provenance', 'vsa', 'test-result'];
  if (!kinds.includes(request.kind))
    throw new ProvenantError(
      'ATTEST_INVALID_REQUEST',
      `Unknown attestation kind '${String(request.kind)}'; one of ${kinds.join(', ')}`,
    );
  const unit = normalizeUnitKey(unitKey);
  const stream = unitStream(unit);
  const { events, currentRevision } = await config.store.readStream(stream);
  if (currentRevision === 'no_stream')
    throw new ProvenantError('DOMAIN_UNIT_NOT_FOUND', `Unit '${unit}' has no receipts`, {
      details: { unit },
    });
  const built = await buildStatement(config, unit, events, request, verdictEventId);
  const payload = serializeStatement(built.statement);
  const statementDigest = sha256(payload);
  const bundle = await signDsse(
    Buffer.from(payload, 'utf8'),
    STATEMENT_PAYLOAD_TYPE,
    signing.signer,
    signing.witnesses ?? [],
  );
  const bundleJson = bundle as unknown as Record<string, unknown>;
  const bundleDigest = sha256(canonicalize(bundleJson));
  const attestationId = config.newAttestationId();
  const base: AttestationIssuedData = {
    attestationId,
    unit,
    kind: request.kind,
    predicateType: built.statement.predicateType,
    statementDigest,
    bundleDigest,
    subjects: built.statement.subject.map((s) => ({
      ...(s.name === undefined ? {} : { name: s.name }),
      digest: { ...s.digest },
    })),
    receipts: built.receipts,
    ...(built.stage === undefined ? {} : { stage: built.stage }),
    ...(built.receiptId === undefined ? {} : { receiptId: built.receiptId }),
    signer: signerOf(signing, bundleJson),
    trigger,
  };
  const log = await logReferences(config, built.receipts);
  if (log !== undefined) base.log = log;
  const withBundle = { ...base, bundle: bundleJson };
  const retained = Buffer.byteLength(canonicalize(withBundle), 'utf8') <= config.maxEventBytes;
  const event = attestationIssued(retained ? withBundle : base);
  const triggerKey = trigger.kind === 'stage-passed' ? stagePassedKey(trigger.eventId) : undefined;
  const result = await config.store.append(stream, [
    {
      type: event.type,
      data: event.data,
      ...(trigger.kind === 'request' && trigger.requestedBy !== undefined
        ? { metadata: { principal: trigger.requestedBy } }
        : {}),
      lookupKeys: [attestationLookupKey(attestationId), ...(triggerKey ? [triggerKey] : [])],
      ...(triggerKey === undefined
        ? {}
        : // Same StagePassed, same statement: a redelivery appends nothing.
          { idempotencyKey: triggerKey, idempotencyDigest: statementDigest }),
    },
  ]);
  const appended = result.events[0];
  if (result.duplicate && appended !== undefined) {
    const original = await config.store.readStream(stream, {
      from: appended.revision,
      maxCount: 1,
    });
    const first = original.events[0];
    if (first !== undefined) return issuedFrom(first, true);
  }
  return {
    attestationId,
    unit,
    kind: request.kind,
    predicateType: base.predicateType,
    eventId: appended?.id ?? '',
    position: (appended?.position ?? result.position).toString(),
    statementDigest,
    bundleDigest,
    ...(signing.identity.kind === 'key' ? { keyId: signing.identity.keyId } : {}),
    bundleRetained: retained,
    duplicate: false,
    bundle,
  };
}

/** The `issueAttestation` use case: on request, for a unit. */
export const issueAttestation =
  (config: IssuerConfig) =>
  (
    unitKey: string,
    request: IssueAttestationRequest,
    options: IssueAttestationOptions = {},
  ): Promise<IssuedAttestation> =>
    issue(config, unitKey, request, {
      kind: 'request',
      ...(options.requestedBy === undefined ? {} : { requestedBy: options.requestedBy }),
    });

/**
 * The VSA of one `StagePassed.v1` event (the attestor's use case). Issues nothing
 * when that event already has its VSA (found by key before any work; the append's
 * idempotency key guards a race) and returns the recorded one.
 */
export const issueStagePassedVsa =
  (config: IssuerConfig) =>
  async (event: RecordedEvent): Promise<IssuedAttestation> => {
    const key = stagePassedKey(event.id);
    const existing = await config.store.findByKey(key);
    if (existing !== undefined) {
      const { events } = await config.store.readStream(existing.stream, {
        from: existing.revision,
        maxCount: 1,
      });
      const first = events[0];
      if (first !== undefined) return issuedFrom(first, true);
    }
    const verdict = event.data as StageVerdictData;
    return issue(
      config,
      verdict.unit,
      { kind: 'vsa', stageId: verdict.stageId },
      { kind: 'stage-passed', eventId: event.id },
      event.id,
    );
  };

export { issuedFrom };
