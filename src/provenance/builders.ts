// SLSA Provenance v1 of a unit, built by a pure function from its receipt chain:
// subjects are its artifacts, byproducts its receipts (each named by its
// canonical digest), dependencies its sources and input artifacts. No I/O and no
// clock: every time comes from the receipts. Like every builder here
// (vsaBuilder.ts, testResultBuilder.ts), the statement is checked against its
// schema before it is returned, so a builder bug throws
// (PROVENANCE_BUILDER_FAULT) and nothing invalid is ever emitted.
// Conventions: docs/provenance.md.
import { parseUnitKey, resolveUnit } from '../domain/unitKey.js';
import { canonicalize } from '../encoding/canonicalJson.js';
import { rfc3339Millis } from '../rfc3339.js';
import type { ChainReceipt, CheckedReceipt, UnitReceiptChain } from './chain.js';
import {
  checkedReceipts,
  distinctArtifacts,
  isInputAction,
  receiptUri,
  requireUri,
  unitSubjects,
} from './chain.js';
import { invalidInput } from './errors.js';
import type { DigestedResourceDescriptor, ResourceDescriptor } from './resourceDescriptor.js';
import { digestProblem, isUri } from './resourceDescriptor.js';
import { SLSA_PROVENANCE_PREDICATE_TYPE } from './slsaProvenance.js';
import type { SlsaProvenanceStatement } from './statement.js';
import { STATEMENT_TYPE, SlsaProvenanceStatementSchema, checkBuilt } from './statement.js';

/** The buildType of provenance built from a receipt chain (docs/provenance.md says what it means). */
export const RECEIPT_CHAIN_BUILD_TYPE = 'https://provenant.dev/buildtypes/receipt-chain/v1';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export interface ProvenanceOptions {
  /** TypeURI of the builder: who is trusted to have run the pipeline. */
  builderId: string;
  /** Component name → version, e.g. `{ provenant: '0.1.0' }`. */
  builderVersion?: Record<string, string>;
  /** Defaults to RECEIPT_CHAIN_BUILD_TYPE. */
  buildType?: string;
  /** Defaults to the correlation id of the latest build receipt (see docs/provenance.md). */
  invocationId?: string;
}

/** Where the unit's source came from: `custom.source` or `results.source` of a receipt. */
export interface SourceRef {
  repository: string;
  commit: string;
  ref?: string;
}

/** The source a receipt names, if any; malformed ones are refused, not skipped. */
function sourceOf(receipt: ChainReceipt): SourceRef | undefined {
  const raw = receipt.data.custom?.['source'] ?? receipt.data.results?.['source'];
  if (!isRecord(raw)) return undefined;
  const { repository, commit, ref } = raw;
  if (repository === undefined && commit === undefined) return undefined;
  const id = receipt.data.receiptId;
  if (typeof repository !== 'string' || !isUri(repository))
    throw invalidInput(`Receipt ${id}: source.repository must be a URI`);
  if (typeof commit !== 'string' || digestProblem('gitCommit', commit) !== undefined)
    throw invalidInput(`Receipt ${id}: source.commit must be a 40 or 64 character lower-case hex`);
  if (ref !== undefined && typeof ref !== 'string')
    throw invalidInput(`Receipt ${id}: source.ref must be a string`);
  return { repository, commit, ...(ref === undefined ? {} : { ref }) };
}

/** A source as a resolved dependency: `git+<repository>[@<ref>]`, digest `gitCommit`. */
function sourceDependency(source: SourceRef): DigestedResourceDescriptor {
  const base = /^(?:https?|ssh):/.test(source.repository)
    ? `git+${source.repository}`
    : source.repository;
  return {
    uri: source.ref === undefined ? base : `${base}@${source.ref}`,
    digest: { gitCommit: source.commit },
  };
}

/**
 * The earliest (or, with `later`, the latest) of the receipts' times — `at(r)`,
 * or else `recordedAt` — returned as written. Compared to the millisecond
 * (Date.parse), a leap second as :59.999; on a tie the first in log order wins.
 */
function boundaryTime(
  receipts: readonly CheckedReceipt[],
  at: (r: CheckedReceipt) => string | undefined,
  later: boolean,
): string | undefined {
  let best: { text: string; ms: number } | undefined;
  for (const receipt of receipts) {
    const text = at(receipt) ?? receipt.recordedAt;
    const ms = rfc3339Millis(text);
    if (ms === undefined)
      throw invalidInput(`Receipt ${receipt.data.receiptId}: '${text}' is not an RFC 3339 time`);
    if (best === undefined || (later ? ms > best.ms : ms < best.ms)) best = { text, ms };
  }
  return best?.text;
}

/** A receipt as a byproduct: its canonical digest and what it says, revocation included. */
function receiptByproduct(receipt: CheckedReceipt): ResourceDescriptor {
  const { data, revoked } = receipt;
  return {
    name: `receipt:${data.receiptId}`,
    uri: receiptUri(data.receiptId),
    digest: { sha256: receipt.digest },
    annotations: {
      action: data.action,
      multipass: data.multipass,
      position: receipt.position,
      eventId: receipt.eventId,
      recordedAt: receipt.recordedAt,
      ...(revoked === undefined
        ? {}
        : {
            revoked: {
              reason: revoked.reason,
              ...(revoked.revokedBy === undefined ? {} : { revokedBy: revoked.revokedBy }),
              ...(revoked.eventId === undefined ? {} : { eventId: revoked.eventId }),
              ...(revoked.recordedAt === undefined ? {} : { recordedAt: revoked.recordedAt }),
            },
          }),
    },
  };
}

/**
 * SLSA Provenance v1 for a unit from its receipt chain. Subjects are the unit's
 * artifacts (unitSubjects); every receipt, revoked or not, is a byproduct named
 * by its canonical digest. Throws PROVENANCE_NO_SUBJECT, PROVENANCE_INVALID_INPUT,
 * PROVENANCE_BAD_DIGEST, or DOMAIN_INVALID_UNIT_KEY for a malformed unit key.
 */
export function buildProvenance(
  chain: UnitReceiptChain,
  options: ProvenanceOptions,
): SlsaProvenanceStatement {
  requireUri('builderId', options.builderId);
  requireUri('buildType', options.buildType);
  // A unit is an NVRPP or a purl (issue 18).
  const identity = resolveUnit(chain.unit);
  const nvrpp = identity.nvrpp === undefined ? undefined : parseUnitKey(identity.nvrpp);
  const receipts = checkedReceipts(chain);
  const live = receipts.filter((r) => r.revoked === undefined);
  const subject = unitSubjects(chain);

  const sources = live.flatMap((r) => sourceOf(r) ?? []);
  const latestSource = sources.at(-1);
  const dependencies = new Map<string, ResourceDescriptor>();
  for (const source of sources) {
    const dependency = sourceDependency(source);
    dependencies.set(canonicalize(dependency), dependency);
  }
  for (const artifact of distinctArtifacts(live.filter((r) => isInputAction(r.data.action))))
    dependencies.set(canonicalize(artifact), artifact);

  const invocationId =
    options.invocationId ??
    live.findLast((r) => r.data.action === 'build' && r.data.correlationId !== undefined)?.data
      .correlationId ??
    live.findLast((r) => r.data.correlationId !== undefined)?.data.correlationId;
  const startedOn = boundaryTime(live, (r) => r.data.startedAt, false);
  const finishedOn = boundaryTime(live, (r) => r.data.finishedAt, true);

  return checkBuilt(SlsaProvenanceStatementSchema, {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: SLSA_PROVENANCE_PREDICATE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: options.buildType ?? RECEIPT_CHAIN_BUILD_TYPE,
        externalParameters: {
          unit: chain.unit,
          // NVRPP units keep the parameters they always had; purl units name their purl.
          ...(nvrpp === undefined ? { purl: identity.purl } : { nvrpp: { ...nvrpp } }),
          ...(latestSource === undefined ? {} : { source: { ...latestSource } }),
        },
        ...(dependencies.size === 0 ? {} : { resolvedDependencies: [...dependencies.values()] }),
      },
      runDetails: {
        builder: {
          id: options.builderId,
          ...(options.builderVersion === undefined ? {} : { version: options.builderVersion }),
        },
        metadata: {
          ...(invocationId === undefined ? {} : { invocationId }),
          ...(startedOn === undefined ? {} : { startedOn }),
          ...(finishedOn === undefined ? {} : { finishedOn }),
        },
        byproducts: receipts.map(receiptByproduct),
      },
    },
  });
}
