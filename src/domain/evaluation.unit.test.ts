import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { definitionsOf } from '../../test/support/domainFixtures.js';
import { evaluateUnit, type EvaluatedReceipt } from './evaluation.js';

const r = (
  receiptId: string,
  action: string,
  multipass: boolean,
  revoked = false,
): EvaluatedReceipt => ({
  receiptId,
  action,
  multipass,
  revoked,
});

const defs = definitionsOf(
  { gate: 'quality', define: { requiredActions: ['build', 'unit-test'] } },
  { gate: 'security', define: { requiredActions: ['sast'] } },
  { stage: 'qa', define: { gates: ['quality'] } },
  { stage: 'release', define: { gates: ['quality', 'security'], prerequisites: ['qa'] } },
);

describe('evaluation (DESIGN.md §1)', () => {
  it('a gate is pending until every required action has a counted receipt', () => {
    const ev = evaluateUnit([r('A', 'build', true)], defs);
    assert.deepEqual(ev.gates.get('quality'), {
      gateId: 'quality',
      gateVersion: 1,
      verdict: 'pending',
      counted: [{ action: 'build', receiptId: 'A', multipass: true }],
      receiptIds: ['A'],
      missingActions: ['unit-test'],
    });
  });

  it('passed when all counted receipts pass; failed as soon as one fails, even with others missing', () => {
    assert.equal(
      evaluateUnit([r('A', 'build', true), r('B', 'unit-test', true)], defs).gates.get('quality')
        ?.verdict,
      'passed',
    );
    assert.equal(
      evaluateUnit([r('A', 'build', false)], defs).gates.get('quality')?.verdict,
      'failed',
    );
  });

  it('a later receipt for the same action supersedes an earlier one, both ways', () => {
    const failedThenPassed = evaluateUnit(
      [r('A', 'build', false), r('B', 'unit-test', true), r('C', 'build', true)],
      defs,
    );
    assert.equal(failedThenPassed.gates.get('quality')?.verdict, 'passed');
    assert.deepEqual(failedThenPassed.gates.get('quality')?.receiptIds, ['C', 'B']);
    const passedThenFailed = evaluateUnit(
      [r('A', 'build', true), r('B', 'unit-test', true), r('C', 'build', false)],
      defs,
    );
    assert.equal(passedThenFailed.gates.get('quality')?.verdict, 'failed');
  });

  it('revoked receipts do not count: the previous non-revoked receipt counts again', () => {
    const ev = evaluateUnit(
      [r('A', 'build', true), r('B', 'unit-test', true), r('C', 'build', false, true)],
      defs,
    );
    assert.equal(ev.gates.get('quality')?.verdict, 'passed');
    assert.deepEqual(ev.gates.get('quality')?.receiptIds, ['A', 'B']);
    const none = evaluateUnit([r('A', 'build', true, true), r('B', 'unit-test', true)], defs);
    assert.equal(none.gates.get('quality')?.verdict, 'pending');
  });

  it('receipts of actions no gate requires change nothing', () => {
    const ev = evaluateUnit([r('A', 'lint', false)], defs);
    assert.equal(ev.gates.get('quality')?.verdict, 'pending');
    assert.equal(ev.gates.get('security')?.verdict, 'pending');
  });

  it('a stage passes when all its gates pass and its prerequisites have passed', () => {
    const all = [r('A', 'build', true), r('B', 'unit-test', true), r('C', 'sast', true)];
    const ev = evaluateUnit(all, defs);
    assert.deepEqual(ev.stages.get('qa'), {
      stageId: 'qa',
      stageVersion: 1,
      passed: true,
      gates: [{ gateId: 'quality', gateVersion: 1, verdict: 'passed' }],
      prerequisites: [],
      receiptIds: ['A', 'B'],
    });
    assert.deepEqual(ev.stages.get('release'), {
      stageId: 'release',
      stageVersion: 1,
      passed: true,
      gates: [
        { gateId: 'quality', gateVersion: 1, verdict: 'passed' },
        { gateId: 'security', gateVersion: 1, verdict: 'passed' },
      ],
      prerequisites: [{ stageId: 'qa', stageVersion: 1, passed: true }],
      receiptIds: ['A', 'B', 'C'],
    });
  });

  it('a stage whose gates pass does not pass while a prerequisite has not', () => {
    const d = definitionsOf(
      { gate: 'quality', define: { requiredActions: ['build'] } },
      { gate: 'security', define: { requiredActions: ['sast'] } },
      { stage: 'qa', define: { gates: ['security'] } },
      { stage: 'release', define: { gates: ['quality'], prerequisites: ['qa'] } },
    );
    const ev = evaluateUnit([r('A', 'build', true)], d);
    assert.equal(ev.stages.get('release')?.passed, false);
    assert.deepEqual(ev.stages.get('release')?.prerequisites, [
      { stageId: 'qa', stageVersion: 1, passed: false },
    ]);
    assert.equal(
      evaluateUnit([r('A', 'build', true), r('B', 'sast', true)], d).stages.get('release')?.passed,
      true,
    );
  });

  it('disabled gates are not evaluated and do not count in stages', () => {
    const d = definitionsOf(
      { gate: 'quality', define: { requiredActions: ['build'] } },
      { gate: 'security', define: { requiredActions: ['sast'] } },
      { stage: 'release', define: { gates: ['quality', 'security'] } },
      { gate: 'security', disable: true },
    );
    const ev = evaluateUnit([r('A', 'build', true)], d);
    assert.equal(ev.gates.has('security'), false);
    assert.equal(ev.stages.get('release')?.passed, true);
    assert.deepEqual(ev.stages.get('release')?.gates, [
      { gateId: 'quality', gateVersion: 1, verdict: 'passed' },
    ]);
  });

  it('a stage whose gates are all disabled cannot pass; disabled stages are not evaluated, nor counted as prerequisites', () => {
    const d = definitionsOf(
      { gate: 'quality', define: { requiredActions: ['build'] } },
      { gate: 'security', define: { requiredActions: ['sast'] } },
      { stage: 'scan', define: { gates: ['security'] } },
      { stage: 'qa', define: { gates: ['security'] } },
      { stage: 'release', define: { gates: ['quality'], prerequisites: ['qa'] } },
      { gate: 'security', disable: true },
      { stage: 'qa', disable: true },
    );
    const ev = evaluateUnit([r('A', 'build', true)], d);
    assert.equal(ev.stages.get('scan')?.passed, false);
    assert.equal(ev.stages.has('qa'), false);
    assert.equal(ev.stages.get('release')?.passed, true);
    assert.deepEqual(ev.stages.get('release')?.prerequisites, []);
  });

  it('names the definition versions it used', () => {
    const d = definitionsOf(
      { gate: 'quality', define: { requiredActions: ['build'] } },
      { gate: 'quality', define: { requiredActions: ['build', 'unit-test'] } },
      { stage: 'qa', define: { gates: ['quality'] } },
      { stage: 'qa', define: { gates: ['quality'], name: 'QA' } },
    );
    const ev = evaluateUnit([r('A', 'build', true)], d);
    assert.equal(ev.gates.get('quality')?.gateVersion, 2);
    assert.equal(ev.gates.get('quality')?.verdict, 'pending');
    assert.equal(ev.stages.get('qa')?.stageVersion, 2);
  });

  it('is a pure function: same input, same output', () => {
    const receipts = [r('A', 'build', true), r('B', 'unit-test', false), r('C', 'sast', true)];
    assert.deepEqual(evaluateUnit(receipts, defs), evaluateUnit([...receipts], defs));
  });
});
