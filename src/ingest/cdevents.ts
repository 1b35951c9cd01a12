// CDEvents (v0.4 and v0.5) that state the outcome of an action become receipts
// (issue 4; docs/ingest.md has the mapping table). A CDEvent travels as the data
// of a CloudEvent whose type is the CDEvent type
// (https://github.com/cdevents/spec/blob/v0.4.1/cloudevents-binding.md).
//
// Only the event versions of those two spec releases are mapped; any other CDEvent
// (another type, or another version of a mapped one) is stored as a pipeline event.
import cdeventSchema from '../../schemas/cloudevents/cdevent.v1.json' with { type: 'json' };
import type { ArtifactRef, EvidenceRef, ReceiptInput } from '../domain/receiptInput.js';
import { ProvenantError } from '../errors.js';
import { ingestAjv, schemaProblems } from './ajv.js';
import { identity, type CloudEventJson } from './cloudEventSchema.js';
import { isJsonMediaType, parseMediaType } from './mediaType.js';
import { looksLikePurl, parsePurlStrict, unitOfPurl, type Purl } from '../domain/purl.js';
import { digestFromPurl, parsePurl, unitKeyFromPurl } from './purl.js';
import { RECEIPT_SCHEMA_ID, originOf } from './receipt.js';

/** What a mapped CDEvent type reports on. */
export type CDEventKind =
  | 'build.finished'
  | 'testsuiterun.finished'
  | 'testcaserun.finished'
  | 'artifact.packaged'
  | 'artifact.published'
  | 'artifact.signed'
  | 'pipelinerun.finished'
  | 'taskrun.finished';

/** The CDEvents spec releases whose event versions are mapped. */
export type CDEventsSpecVersion = '0.4' | '0.5';

// Event versions per spec release, from the releases' schemas: v0.4.1 uses x.2.0
// for all mapped types, v0.5.0 uses x.3.0.
const EVENT_VERSIONS: Readonly<Record<CDEventsSpecVersion, string>> = {
  '0.4': '0.2.0',
  '0.5': '0.3.0',
};
const KINDS: readonly CDEventKind[] = [
  'build.finished',
  'testsuiterun.finished',
  'testcaserun.finished',
  'artifact.packaged',
  'artifact.published',
  'artifact.signed',
  'pipelinerun.finished',
  'taskrun.finished',
];

const MAPPED: ReadonlyMap<string, { kind: CDEventKind; spec: CDEventsSpecVersion }> = new Map(
  KINDS.flatMap((kind) =>
    (Object.keys(EVENT_VERSIONS) as CDEventsSpecVersion[]).map(
      (spec) => [`dev.cdevents.${kind}.${EVENT_VERSIONS[spec]}`, { kind, spec }] as const,
    ),
  ),
);

/** Every CloudEvent type that is mapped to a receipt. */
export const MAPPED_CDEVENT_TYPES: readonly string[] = [...MAPPED.keys()];

/** True for the CDEvent types (and versions) that become receipts. */
export const isMappedCDEventType = (type: string): boolean => MAPPED.has(type);

/** The CloudEvent extension attribute that may name the unit. */
export const UNIT_EXTENSION = 'provenantunit';

interface ProvenantCustomData {
  unit?: string;
  action?: string;
  results?: Record<string, unknown>;
  custom?: Record<string, unknown>;
  artifacts?: ArtifactRef[];
  evidence?: EvidenceRef[];
}

interface CDEventEnvelope {
  context: {
    version?: string;
    specversion?: string;
    id: string;
    type: string;
    timestamp?: string;
    chainId?: string;
    links?: unknown;
  };
  subject: { id: string; content: Record<string, unknown> };
  customData?: { provenant?: ProvenantCustomData } | string;
}

// The receipt schema must be registered first: the envelope refers to its $defs.
if (ingestAjv.getSchema(RECEIPT_SCHEMA_ID) === undefined)
  throw new Error('receipt schema not registered');
const validateEnvelope = ingestAjv.compile<CDEventEnvelope>(cdeventSchema);

const PASSED = new Set(['success', 'pass']);
const NOT_PASSED = new Set(['failure', 'fail', 'error', 'cancel']);
const ACTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
const TEST_TYPES = new Set([
  'performance',
  'functional',
  'unit',
  'security',
  'compliance',
  'integration',
  'e2e',
]);

/**
 * The chain a CDEvent belongs to: `context.chainId`, else (v0.5) the `chainId` of
 * its first link. Undefined when it names none or is not a CDEvent envelope.
 */
export function cdeventChainId(event: CloudEventJson): string | undefined {
  const data = record(event.data);
  const context = record(data?.['context']);
  const own = str(context?.['chainId']);
  if (own !== undefined) return own;
  const links = context?.['links'];
  if (!Array.isArray(links)) return undefined;
  for (const link of links) {
    const id = str(record(link)?.['chainId']);
    if (id !== undefined) return id;
  }
  return undefined;
}

/**
 * Maps a CloudEvent carrying a mapped CDEvent to a ReceiptInput (see the table in
 * docs/ingest.md). `chainUnit` is the unit of the event's chain, used only when the
 * event names no unit itself (docs/chains.md). Throws `INGEST_CDEVENT_INVALID` for a
 * malformed CDEvent, the purl codes (`DOMAIN_INVALID_PURL`, `DOMAIN_PURL_TOO_LONG`,
 * `DOMAIN_INVALID_OCI_DIGEST`) for a malformed artifact purl, and
 * `INGEST_CDEVENT_NO_UNIT` when no unit can be derived.
 */
export function cdeventToReceipt(event: CloudEventJson, chainUnit?: string): ReceiptInput {
  const mapped = MAPPED.get(event.type);
  if (mapped === undefined) throw invalid(event, `${event.type} is not a mapped CDEvent type`);
  const media =
    event.datacontenttype === undefined ? undefined : parseMediaType(event.datacontenttype);
  if (media !== undefined && !isJsonMediaType(media))
    throw invalid(event, `CDEvent data must be JSON, not ${media.essence}`);
  if (!validateEnvelope(event.data))
    throw invalid(
      event,
      'CDEvent data does not have the CDEvents envelope',
      schemaProblems(validateEnvelope.errors),
    );
  const cd = event.data;
  if (cd.context.type !== event.type)
    throw invalid(
      event,
      `CDEvent context.type '${cd.context.type}' differs from the CloudEvent type`,
    );
  if (
    mapped.spec === '0.4'
      ? !cd.context.version?.startsWith('0.4')
      : !cd.context.specversion?.startsWith('0.5')
  )
    throw invalid(
      event,
      mapped.spec === '0.4'
        ? `A CDEvents v0.4 event (${event.type}) carries context.version 0.4.x`
        : `A CDEvents v0.5 event (${event.type}) carries context.specversion 0.5.x`,
    );

  const provenant = typeof cd.customData === 'object' ? cd.customData.provenant : undefined;
  const content = cd.subject.content;
  const purlText = mapped.kind.startsWith('artifact.')
    ? cd.subject.id
    : mapped.kind === 'build.finished'
      ? str(content['artifactId'])
      : undefined;
  // An artifact id that claims to be a purl must be one: a malformed purl is refused
  // with its own code rather than silently dropped.
  const purl: Purl | undefined =
    purlText !== undefined && looksLikePurl(purlText) ? parsePurlStrict(purlText) : undefined;
  const subjectUnit = unitLike(event.subject);

  const unit =
    provenant?.unit ??
    (purl && unitKeyFromPurl(purl)) ??
    str(event[UNIT_EXTENSION]) ??
    subjectUnit ??
    (purl?.version !== undefined && purlText !== undefined
      ? unitOfPurl(purl, purlText).key
      : undefined) ??
    chainUnit;
  if (unit === undefined)
    throw new ProvenantError(
      'INGEST_CDEVENT_NO_UNIT',
      `No unit for ${event.type}: give customData.provenant.unit, an artifact purl with a version, the '${UNIT_EXTENSION}' extension, a unit key as the CloudEvent subject, or a context.chainId whose chain names a unit`,
      { details: identity(event) },
    );

  const artifacts: ArtifactRef[] = [];
  const digest = purl && digestFromPurl(purl);
  if (purl !== undefined && purlText !== undefined && digest !== undefined)
    artifacts.push({ name: purl.name, uri: purlText, digest });
  artifacts.push(...(provenant?.artifacts ?? []));
  const chainId = cdeventChainId(event);

  return {
    unit,
    action: provenant?.action ?? defaultAction(mapped.kind, content),
    multipass: passed(event, mapped.kind, content),
    results: { ...provenant?.results, cdevent: summary(event.type, cd) },
    ...(provenant?.custom === undefined ? {} : { custom: provenant.custom }),
    ...(artifacts.length > 0 ? { artifacts } : {}),
    ...(provenant?.evidence === undefined ? {} : { evidence: provenant.evidence }),
    producer: event.source,
    ...(chainId === undefined ? {} : { correlationId: chainId }),
    ...(cd.context.timestamp === undefined ? {} : { finishedAt: cd.context.timestamp }),
    origin: originOf(event),
  };
}

function defaultAction(kind: CDEventKind, content: Record<string, unknown>): string {
  switch (kind) {
    case 'build.finished':
      return 'build';
    case 'testsuiterun.finished':
      return 'test';
    case 'testcaserun.finished': {
      const type = str(record(content['testCase'])?.['type']);
      return type !== undefined && TEST_TYPES.has(type) ? `${type}-test` : 'test';
    }
    case 'artifact.packaged':
      return 'package';
    case 'artifact.published':
      return 'publish';
    case 'artifact.signed':
      return 'sign';
    case 'pipelinerun.finished':
      return named(content['pipelineName']) ?? 'pipelinerun';
    case 'taskrun.finished':
      return named(content['taskName']) ?? 'taskrun';
  }
}

/** `multipass` per kind; see docs/ingest.md. */
function passed(
  event: CloudEventJson,
  kind: CDEventKind,
  content: Record<string, unknown>,
): boolean {
  switch (kind) {
    case 'build.finished':
      // A finished build reports the artifact it produced; without one, it did not pass.
      return str(content['artifactId']) !== undefined;
    case 'artifact.packaged':
    case 'artifact.published':
      return true;
    case 'artifact.signed':
      return str(content['signature']) !== undefined;
    default: {
      const outcome = content['outcome'];
      if (outcome === undefined) return false;
      if (typeof outcome !== 'string' || !(PASSED.has(outcome) || NOT_PASSED.has(outcome)))
        throw invalid(
          event,
          `Unknown outcome ${JSON.stringify(outcome)}; expected one of ${[...PASSED, ...NOT_PASSED].join(', ')}`,
        );
      return PASSED.has(outcome) && str(content['errors']) === undefined;
    }
  }
}

// The facts of the CDEvent a reader of the receipt needs, without its bulk.
function summary(type: string, cd: CDEventEnvelope): Record<string, unknown> {
  const content = cd.subject.content;
  const out: Record<string, unknown> = { type, subjectId: cd.subject.id };
  for (const key of [
    'outcome',
    'reason',
    'severity',
    'errors',
    'pipelineName',
    'taskName',
    'uri',
    'url',
    'artifactId',
    'signature',
  ]) {
    const value = str(content[key]);
    if (value !== undefined) out[key] = value;
  }
  for (const key of ['testSuite', 'testCase', 'environment', 'pipelineRun']) {
    const value = record(content[key]);
    if (value === undefined) continue;
    const picked = Object.fromEntries(
      ['id', 'name', 'version', 'type', 'source', 'uri', 'url'].flatMap((k) => {
        const v = str(value[k]);
        return v === undefined ? [] : [[k, v]];
      }),
    );
    out[key] = picked;
  }
  return out;
}

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
const named = (value: unknown): string | undefined => {
  const name = str(value);
  return name !== undefined && ACTION_NAME.test(name) ? name : undefined;
};
// A CloudEvent subject that has the shape of a unit key (five non-empty parts), or
// a well-formed purl with a version (a subject is free text: anything else is not a unit).
const unitLike = (subject: string | undefined): string | undefined =>
  subject !== undefined &&
  (/^[^/\s]+(?:\/[^/\s]+){4}$/.test(subject) ||
    (looksLikePurl(subject) && parsePurl(subject)?.version !== undefined))
    ? subject
    : undefined;

const invalid = (
  event: CloudEventJson,
  message: string,
  problems: ReturnType<typeof schemaProblems> = [],
): ProvenantError =>
  new ProvenantError('INGEST_CDEVENT_INVALID', message, {
    details: { ...identity(event), problems },
  });
