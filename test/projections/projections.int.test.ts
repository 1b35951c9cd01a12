// Every read model: given events, then rows (test/support/projection.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  attestationIndex,
  attestationSubjectsTable,
  gateStatus,
  gateStatusTable,
  pipelineEvents,
  pipelineEventsTable,
  receipts,
  receiptsLedger,
  stageStatus,
  stageStatusTable,
  artifactView,
  unitArtifactsTable,
  unitSummary,
  unitSummaryTable,
  type AttestationSubjectRow,
  type ReceiptRow,
} from '../../projections/index.js';
import { projectionSpec } from '../support/projection.js';
import {
  attestationIssued,
  gateVerdict,
  pipelineEvent,
  receiptRecorded,
  receiptRevoked,
  stageVerdict,
} from '../support/projectionEvents.js';

const U = 'openssl/3.2.1/2.el9/x86_64/rpm';
const V = 'zlib/1.3/1.el9/x86_64/rpm';

describe('receiptsLedger', () => {
  const spec = projectionSpec(receiptsLedger);

  it('records one row per receipt and marks revoked ones', async () => {
    const r1 = receiptRecorded('r1', U, { producer: 'ci', correlationId: 'c-1' });
    const r2 = receiptRecorded('r2', V, { action: 'sast', multipass: false });
    const revoked = receiptRevoked('r1', U, { reason: 'wrong commit', revokedBy: 'alice' });
    const row = (e: typeof r1, extra: Partial<ReceiptRow>): ReceiptRow => ({
      receiptId: '',
      unit: '',
      action: 'build',
      multipass: true,
      producer: null,
      correlationId: null,
      eventId: e.id,
      position: Number(e.position),
      recordedAt: e.recordedAt,
      revoked: false,
      revokedReason: null,
      revokedBy: null,
      revokedAt: null,
      data: e.data as ReceiptRow['data'],
      ...extra,
    });
    await spec([r1, r2, revoked, gateVerdict(U, 'g', 'passed')]).then(receipts, [
      row(r1, {
        receiptId: 'r1',
        unit: U,
        producer: 'ci',
        correlationId: 'c-1',
        revoked: true,
        revokedReason: 'wrong commit',
        revokedBy: 'alice',
        revokedAt: Number(revoked.position),
      }),
      row(r2, { receiptId: 'r2', unit: V, action: 'sast', multipass: false }),
    ]);
  });
});

describe('gateStatus', () => {
  it('keeps the latest verdict per unit and gate', async () => {
    const first = gateVerdict(U, 'tests', 'passed');
    const other = gateVerdict(V, 'tests', 'failed');
    const last = gateVerdict(U, 'tests', 'pending', { gateVersion: 2 });
    await projectionSpec(gateStatus)([first, other, last, receiptRecorded('r1', U)]).then(
      gateStatusTable,
      [
        {
          unit: U,
          gateId: 'tests',
          verdict: 'pending',
          gateVersion: 2,
          receiptIds: [],
          missingActions: ['build'],
          position: Number(last.position),
          recordedAt: last.recordedAt,
        },
        {
          unit: V,
          gateId: 'tests',
          verdict: 'failed',
          gateVersion: 1,
          receiptIds: [],
          missingActions: ['build'],
          position: Number(other.position),
          recordedAt: other.recordedAt,
        },
      ],
    );
  });
});

describe('stageStatus', () => {
  it('keeps whether each stage passed, per unit', async () => {
    const passed = stageVerdict(U, 'qa', true);
    const prod = stageVerdict(U, 'prod', true);
    const reopened = stageVerdict(U, 'qa', false);
    await projectionSpec(stageStatus)([passed, prod, reopened]).then(stageStatusTable, [
      {
        unit: U,
        stageId: 'prod',
        passed: true,
        stageVersion: 1,
        position: Number(prod.position),
        recordedAt: prod.recordedAt,
      },
      {
        unit: U,
        stageId: 'qa',
        passed: false,
        stageVersion: 1,
        position: Number(reopened.position),
        recordedAt: reopened.recordedAt,
      },
    ]);
  });
});

describe('unitSummary', () => {
  const spec = projectionSpec(unitSummary);
  const digest = { sha256: 'a'.repeat(64) };

  it('summarises artifacts, stage, activity, open gates and receipts', async () => {
    const events = [
      receiptRecorded('r1', U, { artifacts: [{ name: 'openssl.rpm', digest }] }),
      receiptRecorded('r2', U, {
        artifacts: [
          { name: 'openssl.rpm', digest: { ...digest } },
          { name: 'openssl-devel.rpm', digest: { sha256: 'b'.repeat(64) } },
        ],
      }),
      gateVerdict(U, 'tests', 'passed'),
      stageVerdict(U, 'qa', true),
      stageVerdict(U, 'staging', true),
      stageVerdict(U, 'staging', false),
      gateVerdict(U, 'sast', 'failed'),
    ];
    const last = events.at(-1)!;
    await spec(events).then(unitSummaryTable, [
      {
        unit: U,
        currentStage: 'qa',
        lastPosition: Number(last.position),
        lastRecordedAt: last.recordedAt,
        openGates: ['sast'],
        receiptCount: 2,
        revision: last.revision,
        gateVerdicts: { tests: 'passed', sast: 'failed' },
        passedStages: { qa: Number(last.position) - 3 },
        recordedGates: {
          tests: { verdict: 'passed', gateVersion: 1, receiptIds: ['r1'] },
          sast: { verdict: 'failed', gateVersion: 1, receiptIds: [] },
        },
        recordedStages: {
          qa: { passed: true, stageVersion: 1, receiptIds: [] },
          staging: { passed: false, stageVersion: 1, receiptIds: [] },
        },
      },
    ]);
  });

  it('keeps each distinct artifact of a unit once, in its own rows (by name, uri, digest)', async () => {
    const events = [
      receiptRecorded('r1', U, { artifacts: [{ name: 'openssl.rpm', digest }] }),
      receiptRecorded('r2', U, {
        artifacts: [
          { name: 'openssl.rpm', digest: { ...digest } },
          { name: 'openssl-devel.rpm', digest: { sha256: 'b'.repeat(64) } },
        ],
      }),
      receiptRecorded('r3', V, { artifacts: [{ uri: 'https://x.example/z.rpm', digest }] }),
    ];
    const rows = [
      {
        unit: U,
        artifact: JSON.stringify(['openssl-devel.rpm', null, [['sha256', 'b'.repeat(64)]]]),
      },
      { unit: U, artifact: JSON.stringify(['openssl.rpm', null, [['sha256', 'a'.repeat(64)]]]) },
      {
        unit: V,
        artifact: JSON.stringify([null, 'https://x.example/z.rpm', [['sha256', 'a'.repeat(64)]]]),
      },
    ];
    await spec(events).then(unitArtifactsTable, rows);
    // Name, uri and digest are read back from the key.
    assert.deepEqual(rows.map(artifactView), [
      { name: 'openssl-devel.rpm', digest: { sha256: 'b'.repeat(64) } },
      { name: 'openssl.rpm', digest },
      { uri: 'https://x.example/z.rpm', digest },
    ]);
  });

  it('has no current stage once every passed stage is reopened', async () => {
    const first = stageVerdict(V, 'qa', true);
    const last = stageVerdict(V, 'qa', false);
    await spec([first, last]).then(unitSummaryTable, [
      {
        unit: V,
        currentStage: null,
        lastPosition: Number(last.position),
        lastRecordedAt: last.recordedAt,
        openGates: [],
        receiptCount: 0,
        revision: last.revision,
        gateVerdicts: {},
        passedStages: {},
        recordedGates: {},
        recordedStages: { qa: { passed: false, stageVersion: 1, receiptIds: [] } },
      },
    ]);
  });
});

describe('pipelineEvents', () => {
  it('records one row per pipeline event with its CloudEvent context', async () => {
    const a = pipelineEvent('https://ci.example/jenkins', 'org.example.build.queued', {
      subject: 'job-7',
      time: '2026-01-01T00:00:00Z',
    });
    const b = pipelineEvent('https://ci.example/gha', 'org.example.deploy');
    await projectionSpec(pipelineEvents)([a, receiptRecorded('r1', U), b]).then(
      pipelineEventsTable,
      [a, b].map((e, i) => ({
        eventId: e.id,
        position: Number(e.position),
        source: i === 0 ? 'https://ci.example/jenkins' : 'https://ci.example/gha',
        type: i === 0 ? 'org.example.build.queued' : 'org.example.deploy',
        subject: i === 0 ? 'job-7' : null,
        correlationId: null,
        time: i === 0 ? '2026-01-01T00:00:00Z' : null,
        stream: 'source-abc',
        recordedAt: e.recordedAt,
      })),
    );
  });
});

describe('attestationIndex', () => {
  it('records each attestation under every digest of every subject, with its stage and signer', async () => {
    const A = 'A'.repeat(64);
    const vsa = attestationIssued('01ATTEST0000000000000000002', U, {
      kind: 'vsa',
      predicateType: 'https://slsa.dev/verification_summary/v1',
      subjects: [{ name: 'openssl.rpm', digest: { sha256: A, sha512: 'e'.repeat(128) } }],
      stage: { stageId: 'release', stageVersion: 2, passed: true, verdictEventId: 'ev' },
      signer: { kind: 'keyless', identity: 'ci@example.com' },
    });
    const provenance = attestationIssued('01ATTEST0000000000000000001', V, {
      subjects: [
        { name: 'zlib.rpm', digest: { sha256: A } },
        { digest: { sha256: 'f'.repeat(64) } },
      ],
    });
    const vsaFields = {
      attestationId: '01ATTEST0000000000000000002',
      unit: U,
      kind: 'vsa' as const,
      predicateType: 'https://slsa.dev/verification_summary/v1',
      stageId: 'release',
      passed: true,
      signer: { kind: 'keyless' as const, identity: 'ci@example.com' },
    };
    const provenanceFields = {
      attestationId: '01ATTEST0000000000000000001',
      unit: V,
      kind: 'provenance' as const,
      predicateType: 'https://slsa.dev/provenance/v1',
      stageId: null,
      passed: null,
      signer: { kind: 'key' as const, keyId: 'k1' },
    };
    const row = (
      e: typeof vsa,
      fields: typeof vsaFields | typeof provenanceFields,
      digest: string,
      subjectName: string | null,
    ): AttestationSubjectRow => ({
      ...fields,
      digest,
      subjectName,
      eventId: e.id,
      position: Number(e.position),
      recordedAt: e.recordedAt,
    });
    await projectionSpec(attestationIndex)([vsa, receiptRecorded('r9', U), provenance]).then(
      attestationSubjectsTable,
      [
        // Primary-key order: digest (the value in lower case), then attestation id.
        row(provenance, provenanceFields, `sha256:${'a'.repeat(64)}`, 'zlib.rpm'),
        row(vsa, vsaFields, `sha256:${'a'.repeat(64)}`, 'openssl.rpm'),
        row(provenance, provenanceFields, `sha256:${'f'.repeat(64)}`, null),
        row(vsa, vsaFields, `sha512:${'e'.repeat(128)}`, 'openssl.rpm'),
      ],
    );
  });
});
