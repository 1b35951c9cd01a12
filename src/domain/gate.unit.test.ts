import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deciderSpecification } from '../../test/support/decider.js';
import { compileCustomSchema } from './customSchema.js';
import { EventTypes, type GateEvent } from './events.js';
import { gateDecider, type GateCommand } from './gate.js';
import { gateStreamName } from './names.js';

const given = deciderSpecification<
  GateCommand,
  GateEvent,
  ReturnType<typeof gateDecider.initialState>
>(gateDecider);

const define = (definition: Record<string, unknown>, gateId = 'build-ok'): GateCommand => ({
  type: 'DefineGate',
  gateId,
  definition: definition as never,
});
const defined = (
  version: number,
  body: Record<string, unknown>,
  gateId = 'build-ok',
): GateEvent => ({
  type: EventTypes.GateDefined,
  data: { gateId, version, external: false, ...body } as never,
});

describe('gates: define, update, disable', () => {
  it('defining a new gate decides version 1 with external defaulting to false', () => {
    given([])
      .when(define({ requiredActions: ['build', 'unit-test'], name: 'Build OK' }))
      .then(defined(1, { requiredActions: ['build', 'unit-test'], name: 'Build OK' }));
  });

  it('updating a gate decides the next version', () => {
    given([
      defined(1, { requiredActions: ['build'] }),
      defined(2, { requiredActions: ['build', 'sast'] }),
    ])
      .when(define({ requiredActions: ['build', 'sast', 'sca'] }))
      .then(defined(3, { requiredActions: ['build', 'sast', 'sca'] }));
  });

  it('an identical re-definition decides nothing (a repeated PUT is not a new version)', () => {
    given([defined(1, { requiredActions: ['build'], name: 'B' })])
      .when(define({ name: 'B', requiredActions: ['build'] }))
      .thenNothingHappened();
  });

  it('an external gate is a gate with an owner', () => {
    given([])
      .when(define({ requiredActions: ['destructive-test'], external: true, owner: 'qa-team' }))
      .then(
        defined(1, { requiredActions: ['destructive-test'], external: true, owner: 'qa-team' }),
      );
    given([])
      .when(define({ requiredActions: ['destructive-test'], external: true }))
      .thenThrows('DOMAIN_INVALID_GATE', (e) => assert.match(e.message, /owner/));
  });

  it('rejects bad definitions with DOMAIN_INVALID_GATE', () => {
    given([])
      .when(define({ requiredActions: [] }))
      .thenThrows('DOMAIN_INVALID_GATE', (e) => assert.match(e.message, /must not be empty/));
    given([])
      .when(define({ requiredActions: ['build', 'build'] }))
      .thenThrows('DOMAIN_INVALID_GATE', (e) => assert.match(e.message, /more than once/));
    given([])
      .when(define({ requiredActions: ['bad action'] }))
      .thenThrows('DOMAIN_INVALID_GATE');
    given([]).when(define({})).thenThrows('DOMAIN_INVALID_GATE');
    given([])
      .when(define({ requiredActions: ['build'], external: 'yes' }))
      .thenThrows('DOMAIN_INVALID_GATE');
    given([])
      .when(define({ requiredActions: ['build'] }, '../etc'))
      .thenThrows('DOMAIN_INVALID_GATE');
  });

  it('disabling decides GateDisabled with the current version and reason; the gate is never deleted', () => {
    given([defined(1, { requiredActions: ['build'] }), defined(2, { requiredActions: ['build'] })])
      .when({ type: 'DisableGate', gateId: 'build-ok', reason: 'replaced' })
      .then({
        type: EventTypes.GateDisabled,
        data: { gateId: 'build-ok', version: 2, reason: 'replaced' },
      });
  });

  it('disabling twice decides nothing; disabling an unknown gate is DOMAIN_GATE_NOT_FOUND', () => {
    given([
      defined(1, { requiredActions: ['build'] }),
      { type: EventTypes.GateDisabled, data: { gateId: 'build-ok', version: 1 } },
    ])
      .when({ type: 'DisableGate', gateId: 'build-ok' })
      .thenNothingHappened();
    given([]).when({ type: 'DisableGate', gateId: 'build-ok' }).thenThrows('DOMAIN_GATE_NOT_FOUND');
  });

  it('defining a disabled gate enables it again as a new version', () => {
    given([
      defined(1, { requiredActions: ['build'] }),
      { type: EventTypes.GateDisabled, data: { gateId: 'build-ok', version: 1 } },
    ])
      .when(define({ requiredActions: ['build'] }))
      .then(defined(2, { requiredActions: ['build'] }));
  });

  it('evolve tracks version, enabled flag and definition', () => {
    const state = [
      defined(1, { requiredActions: ['a'] }),
      {
        type: EventTypes.GateDisabled,
        data: { gateId: 'build-ok', version: 1, reason: 'old' },
      } as GateEvent,
    ].reduce(gateDecider.evolve, gateDecider.initialState());
    assert.equal(state.version, 1);
    assert.equal(state.enabled, false);
    assert.equal(state.disabledReason, 'old');
    assert.deepEqual(state.definition?.requiredActions, ['a']);
  });

  it('names the stream gate-<id>', () => {
    assert.equal(gateStreamName('build-ok'), 'gate-build-ok');
  });
});

describe('gates: custom-section schema', () => {
  const schema = {
    type: 'object',
    properties: { coverage: { type: 'number', minimum: 0 } },
    required: ['coverage'],
  };

  it('a valid draft 2020-12 schema is stored with the definition', () => {
    given([])
      .when(define({ requiredActions: ['unit-test'], customSchema: schema }))
      .then(defined(1, { requiredActions: ['unit-test'], customSchema: schema }));
  });

  it('rejects a remote $ref', () => {
    for (const ref of ['https://evil.example/schema.json', 'other.json#/x', '//host/s']) {
      given([])
        .when(
          define({
            requiredActions: ['sast'],
            customSchema: { type: 'object', properties: { x: { $ref: ref } } },
          }),
        )
        .thenThrows('DOMAIN_INVALID_GATE_SCHEMA', (e) => {
          assert.match(e.message, /remote \$ref/);
          assert.equal(e.details?.path, '/properties/x');
        });
    }
    given([])
      .when(
        define({ requiredActions: ['sast'], customSchema: { $dynamicRef: 'https://x/y#meta' } }),
      )
      .thenThrows('DOMAIN_INVALID_GATE_SCHEMA', (e) => assert.match(e.message, /\$dynamicRef/));
  });

  it('accepts a local $ref', () => {
    const local = {
      $defs: { pct: { type: 'number', maximum: 100 } },
      type: 'object',
      properties: { c: { $ref: '#/$defs/pct' } },
    };
    const validate = compileCustomSchema(local);
    assert.equal(validate({ c: 50 }), true);
    assert.equal(validate({ c: 500 }), false);
  });

  it('rejects $data', () => {
    given([])
      .when(
        define({
          requiredActions: ['sast'],
          customSchema: {
            type: 'object',
            properties: { max: { type: 'number' }, v: { maximum: { $data: '1/max' } } },
          },
        }),
      )
      .thenThrows('DOMAIN_INVALID_GATE_SCHEMA', (e) => assert.match(e.message, /\$data/));
  });

  it('rejects what ajv strict mode refuses, and non-object schemas', () => {
    given([])
      .when(define({ requiredActions: ['sast'], customSchema: { type: 'object', colour: 'red' } }))
      .thenThrows('DOMAIN_INVALID_GATE_SCHEMA', (e) => assert.match(e.message, /unknown keyword/));
    given([])
      .when(
        define({
          requiredActions: ['sast'],
          customSchema: { type: 'string', format: 'no-such-format' },
        }),
      )
      .thenThrows('DOMAIN_INVALID_GATE_SCHEMA');
    given([])
      .when(define({ requiredActions: ['sast'], customSchema: [] }))
      .thenThrows('DOMAIN_INVALID_GATE_SCHEMA');
    given([])
      .when(
        define({
          requiredActions: ['sast'],
          customSchema: { $schema: 'http://json-schema.org/draft-04/schema#' },
        }),
      )
      .thenThrows('DOMAIN_INVALID_GATE_SCHEMA');
  });

  it('rejects schemas nested too deep', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 40; i++) deep = { type: 'object', properties: { a: deep } };
    given([])
      .when(define({ requiredActions: ['sast'], customSchema: deep }))
      .thenThrows('DOMAIN_INVALID_GATE_SCHEMA', (e) => assert.match(e.message, /deeper/));
  });
});
