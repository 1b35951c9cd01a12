import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deciderSpecification } from '../../test/support/decider.js';
import { EventTypes, type StageEvent } from './events.js';
import { stageStreamName } from './names.js';
import {
  findPrerequisiteCycle,
  stageDecider,
  type StageCatalog,
  type StageCommand,
} from './stage.js';

const given = deciderSpecification<
  StageCommand,
  StageEvent,
  ReturnType<typeof stageDecider.initialState>
>(stageDecider);

const catalog = (gates: string[], stages: Record<string, string[]> = {}): StageCatalog => ({
  gates: new Set(gates),
  prerequisites: new Map(Object.entries(stages)),
});
const define = (
  stageId: string,
  gates: string[],
  prerequisites?: string[],
  cat = catalog(['g1', 'g2', 'g3'], { qa: [], build: [] }),
): StageCommand => ({
  type: 'DefineStage',
  stageId,
  definition: prerequisites === undefined ? { gates } : { gates, prerequisites },
  catalog: cat,
});
const defined = (
  stageId: string,
  version: number,
  gates: string[],
  prerequisites: string[] = [],
): StageEvent => ({
  type: EventTypes.StageDefined,
  data: { stageId, version, gates, prerequisites },
});

describe('stages: define, update, disable', () => {
  it('defines an ordered set of gates, version 1, prerequisites defaulting to none', () => {
    given([])
      .when(define('release', ['g2', 'g1']))
      .then(defined('release', 1, ['g2', 'g1']));
  });

  it('updates to the next version, with prerequisite stages', () => {
    given([defined('release', 1, ['g1'])])
      .when(define('release', ['g1', 'g3'], ['qa']))
      .then(defined('release', 2, ['g1', 'g3'], ['qa']));
  });

  it('an identical re-definition decides nothing', () => {
    given([defined('release', 1, ['g1'], ['qa'])])
      .when(define('release', ['g1'], ['qa']))
      .thenNothingHappened();
  });

  it('rejects unknown gates, naming them', () => {
    given([])
      .when(define('release', ['g1', 'nope', 'nada']))
      .thenThrows('DOMAIN_UNKNOWN_GATE', (e) =>
        assert.deepEqual(e.details?.unknownGates, ['nope', 'nada']),
      );
  });

  it('rejects unknown prerequisite stages', () => {
    given([])
      .when(define('release', ['g1'], ['ghost']))
      .thenThrows('DOMAIN_UNKNOWN_STAGE', (e) =>
        assert.deepEqual(e.details?.unknownStages, ['ghost']),
      );
  });

  it('rejects a stage that is its own prerequisite', () => {
    given([])
      .when(define('release', ['g1'], ['release']))
      .thenThrows('DOMAIN_STAGE_CYCLE');
  });

  it('rejects prerequisite cycles through other stages', () => {
    // prod -> staging -> qa; redefining qa to require prod closes the loop.
    const cat = catalog(['g1'], { qa: [], staging: ['qa'], prod: ['staging'] });
    given([defined('qa', 1, ['g1'])])
      .when(define('qa', ['g1'], ['prod'], cat))
      .thenThrows('DOMAIN_STAGE_CYCLE', (e) =>
        assert.deepEqual(e.details?.cycle, ['qa', 'prod', 'staging', 'qa']),
      );
  });

  it('accepts a diamond of prerequisites (not a cycle)', () => {
    const cat = catalog(['g1'], { a: [], b: ['a'], c: ['a'] });
    given([])
      .when(define('d', ['g1'], ['b', 'c'], cat))
      .then(defined('d', 1, ['g1'], ['b', 'c']));
  });

  it('rejects malformed definitions', () => {
    given([]).when(define('release', [])).thenThrows('DOMAIN_INVALID_STAGE');
    given([])
      .when(define('release', ['g1', 'g1']))
      .thenThrows('DOMAIN_INVALID_STAGE');
    given([])
      .when(define('bad id', ['g1']))
      .thenThrows('DOMAIN_INVALID_STAGE');
  });

  it('disables (never deletes); twice decides nothing; unknown is DOMAIN_STAGE_NOT_FOUND', () => {
    given([defined('release', 1, ['g1'])])
      .when({ type: 'DisableStage', stageId: 'release', reason: 'retired' })
      .then({
        type: EventTypes.StageDisabled,
        data: { stageId: 'release', version: 1, reason: 'retired' },
      });
    given([
      defined('release', 1, ['g1']),
      { type: EventTypes.StageDisabled, data: { stageId: 'release', version: 1 } },
    ])
      .when({ type: 'DisableStage', stageId: 'release' })
      .thenNothingHappened();
    given([])
      .when({ type: 'DisableStage', stageId: 'release' })
      .thenThrows('DOMAIN_STAGE_NOT_FOUND');
  });

  it('names the stream stage-<id>; findPrerequisiteCycle finds nothing in a DAG', () => {
    assert.equal(stageStreamName('release'), 'stage-release');
    assert.equal(
      findPrerequisiteCycle(
        'x',
        ['a'],
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
      undefined,
    );
  });
});
