// Attestation index (DESIGN.md §5): every issued attestation under each digest
// of each of its subjects, so that release tooling holding an artifact asks
// "which attestations name this digest?" (`GET /v1/attestations?digest=`)
// without knowing the unit. One row per (subject digest, attestation); the
// attestation's bundle stays in the log (`GET /v1/attestations/{id}`).
import {
  EventTypes,
  type AttestationIssuedData,
  type AttestationKind,
} from '../src/domain/events.js';
import type { RecordedEvent } from '../src/eventStore/types.js';
import {
  defineProjection,
  defineTable,
  upsert,
  type ReadModelChange,
} from '../src/readModels/index.js';

export interface AttestationSubjectRow extends Record<string, unknown> {
  /** `<algorithm>:<value>`, the value in lower case (`sha256:9f86d0…`). */
  digest: string;
  attestationId: string;
  unit: string;
  kind: AttestationKind;
  predicateType: string;
  subjectName: string | null;
  /** VSA: the stage it summarises, and its verdict. */
  stageId: string | null;
  passed: boolean | null;
  signer: AttestationIssuedData['signer'];
  eventId: string;
  position: number;
  recordedAt: string;
}

export const attestationSubjectsTable = defineTable<AttestationSubjectRow>({
  name: 'attestation_subjects',
  columns: {
    digest: 'TEXT',
    attestationId: 'TEXT',
    unit: 'TEXT',
    kind: 'TEXT',
    predicateType: 'TEXT',
    subjectName: 'TEXT',
    stageId: 'TEXT',
    passed: 'BOOLEAN',
    signer: 'JSON',
    eventId: 'TEXT',
    position: 'INTEGER',
    recordedAt: 'TEXT',
  },
  // Attestation ids are ULIDs: by digest, in the order they were issued.
  primaryKey: ['digest', 'attestationId'],
});

/** The index's form of a digest entry: the algorithm as named, the value in lower case. */
export const digestKey = (algorithm: string, value: string): string =>
  `${algorithm}:${value.toLowerCase()}`;

function rowsOf(event: RecordedEvent): ReadModelChange[] {
  const data = event.data as AttestationIssuedData;
  const changes: ReadModelChange[] = [];
  for (const subject of data.subjects)
    for (const [algorithm, value] of Object.entries(subject.digest))
      changes.push(
        upsert(attestationSubjectsTable, {
          digest: digestKey(algorithm, value),
          attestationId: data.attestationId,
          unit: data.unit,
          kind: data.kind,
          predicateType: data.predicateType,
          subjectName: subject.name ?? null,
          stageId: data.stage?.stageId ?? null,
          passed: data.stage?.passed ?? null,
          signer: data.signer,
          eventId: event.id,
          position: Number(event.position),
          recordedAt: event.recordedAt,
        }),
      );
  return changes;
}

export const attestationIndex = defineProjection({
  name: 'attestationIndex',
  version: 1,
  tables: [attestationSubjectsTable],
  canHandle: [EventTypes.AttestationIssued],
  handle: (events) => events.flatMap(rowsOf),
});
