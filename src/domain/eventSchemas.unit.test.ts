// Every domain event type has a JSON Schema in schemas/events/, the schemas compile
// under ajv's strict draft 2020-12 mode, and what the deciders emit satisfies them.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { UNIT, definitionsOf, receipt } from '../../test/support/domainFixtures.js';
import { attestationIssued } from './attestation.js';
import { unitExported } from './unitExport.js';
import {
  EXPORT_FORMAT,
  EventTypes,
  checkpointCosigned,
  logKeyRotated,
  checkpointSigned,
  type DomainEvent,
} from './events.js';
import { decideGate, initialGateState } from './gate.js';
import { decideStage, initialStageState } from './stage.js';
import { unitDecider, type UnitCommand } from './unit.js';

const dir = new URL('../../schemas/events/', import.meta.url);
const apiDir = new URL('../../schemas/api/', import.meta.url);

const compile = (url: URL): ValidateFunction => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormatsModule.default(ajv);
  return ajv.compile(JSON.parse(readFileSync(url, 'utf8')) as object);
};

const validators = new Map<string, ValidateFunction>(
  Object.values(EventTypes).map((type) => [type, compile(new URL(`${type}.json`, dir))]),
);

const assertValid = (event: DomainEvent): void => {
  const validate = validators.get(event.type);
  assert.ok(validate, `no schema for ${event.type}`);
  assert.ok(
    validate(event.data),
    `${event.type}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(event.data)}`,
  );
};

describe('event schemas', () => {
  it('exist for every event type and compile in strict mode (and the API body schemas too)', () => {
    assert.equal(validators.size, Object.values(EventTypes).length);
    for (const file of readdirSync(apiDir)) compile(new URL(file, apiDir));
  });

  it('accept the events the deciders emit', () => {
    const defs = definitionsOf(
      { gate: 'quality', define: { requiredActions: ['build'], customSchema: { type: 'object' } } },
      { gate: 'security', define: { requiredActions: ['sast'] } },
      { stage: 'qa', define: { gates: ['quality'] } },
      { stage: 'release', define: { gates: ['quality', 'security'], prerequisites: ['qa'] } },
    );
    const ids = [
      '01J00000000000000000000001',
      '01J00000000000000000000002',
      '01J00000000000000000000003',
    ] as const;
    const commands: UnitCommand[] = [
      {
        type: 'RecordReceipt',
        receiptId: ids[0],
        receipt: receipt('build', true, {
          custom: { a: 1 },
          results: { passed: 3 },
          artifacts: [{ name: 'x.rpm', digest: { sha256: 'c'.repeat(64) } }],
          evidence: [{ uri: 'https://ci/log', digest: { sha256: 'd'.repeat(64) } }],
          producer: 'ci',
          origin: { source: '/ci', id: '1', type: 'dev.provenant.receipt.v1' },
        }),
        definitions: defs,
      },
      {
        type: 'RecordReceipt',
        receiptId: ids[1],
        receipt: receipt('sast', false),
        definitions: defs,
      },
      {
        type: 'RecordReceipt',
        receiptId: ids[2],
        receipt: receipt('sast', true),
        definitions: defs,
      },
      {
        type: 'RevokeReceipt',
        receiptId: ids[2],
        reason: 'bad scan',
        revokedBy: 'alice',
        definitions: defs,
      },
      {
        type: 'Evaluate',
        definitions: definitionsOf({
          gate: 'quality',
          define: { requiredActions: ['build', 'unit-test'] },
        }),
      },
    ];
    let state = unitDecider.initialState();
    const seen = new Set<string>();
    for (const command of commands) {
      const events = unitDecider.decide(command, state);
      for (const event of events) {
        assertValid(event);
        seen.add(event.type);
      }
      state = events.reduce(unitDecider.evolve, state);
    }
    const gate = decideGate(
      {
        type: 'DefineGate',
        gateId: 'ext',
        definition: {
          requiredActions: ['x'],
          external: true,
          owner: 'qa',
          name: 'E',
          description: 'd',
        },
      },
      initialGateState(),
    );
    const disabledGate = decideGate(
      { type: 'DisableGate', gateId: 'ext', reason: 'r' },
      { ...initialGateState(), version: 1, enabled: true, gateId: 'ext' },
    );
    const stage = decideStage(
      {
        type: 'DefineStage',
        stageId: 's',
        definition: { gates: ['ext'] },
        catalog: { gates: new Set(['ext']), prerequisites: new Map() },
      },
      initialStageState(),
    );
    const disabledStage = decideStage(
      { type: 'DisableStage', stageId: 's' },
      { ...initialStageState(), version: 1, enabled: true, stageId: 's' },
    );
    const attestation = attestationIssued({
      attestationId: '01J00000000000000000000009',
      unit: UNIT,
      kind: 'vsa',
      predicateType: 'https://slsa.dev/verification_summary/v1',
      statementDigest: 'a'.repeat(64),
      bundleDigest: 'b'.repeat(64),
      subjects: [{ name: 'openssl.rpm', digest: { sha256: 'c'.repeat(64) } }],
      receipts: [{ receiptId: '01J00000000000000000000001', digest: 'd'.repeat(64) }],
      stage: { stageId: 'release', stageVersion: 1, passed: true, verdictEventId: 'e1' },
      signer: { kind: 'key', keyId: 'e'.repeat(64) },
      trigger: { kind: 'request', requestedBy: 'alice' },
      bundle: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
    });
    const exported = unitExported({
      unit: UNIT,
      format: EXPORT_FORMAT,
      exportedAt: '2026-01-02T03:04:05.678Z',
      exportedBy: 'auditor@example.com',
      manifestDigest: 'f'.repeat(64),
      headPosition: '42',
      unitRevision: 7,
      files: 5,
    });
    for (const event of [
      ...gate,
      ...disabledGate,
      ...stage,
      ...disabledStage,
      attestation,
      exported,
      checkpointSigned({
        origin: 'provenant.local/log',
        treeSize: 8,
        rootHash: `${'A'.repeat(43)}=`,
        note: 'provenant.local/log\n8\nAAAA\n\n— provenant.local/log AAAA\n',
        verifierKey: 'provenant.local/log+00000000+AAAA',
      }),
      checkpointCosigned({
        origin: 'provenant.local/log',
        treeSize: 8,
        rootHash: `${'A'.repeat(43)}=`,
        witness: 'witness.example/w1',
        keyId: '0a1b2c3d',
        witnessKey: 'witness.example/w1+0a1b2c3d+BAAA',
        timestamp: 1_700_000_000,
        signature: `${'A'.repeat(86)}==`,
        cosignature: 'witness.example/w1 AAAA',
      }),
      logKeyRotated({
        origin: 'provenant.local/log',
        treeSize: 8,
        previousVerifierKey: 'provenant.local/log+00000000+AAAA',
        verifierKey: 'provenant.local/log+11111111+BBBB',
        statement: 'provenant.dev/log-key-rotation/v1\n…\n\n— provenant.local/log AAAA\n',
      }),
    ]) {
      assertValid(event);
      seen.add(event.type);
    }
    assert.deepEqual([...seen].sort(), Object.values(EventTypes).sort());
    assert.equal(state.unit, UNIT);
  });

  it('reject malformed data', () => {
    assert.equal(
      validators.get(EventTypes.ReceiptRecorded)?.({
        receiptId: 'x',
        unit: UNIT,
        action: 'a',
        multipass: true,
      }),
      false,
    );
    assert.equal(validators.get(EventTypes.GatePassed)?.({ unit: UNIT }), false);
    assert.equal(
      validators.get(EventTypes.UnitExported)?.({
        unit: UNIT,
        format: EXPORT_FORMAT,
        exportedAt: 'yesterday',
        manifestDigest: 'f'.repeat(64),
        headPosition: '42',
        unitRevision: 7,
        files: 5,
      }),
      false,
    );
  });
});
