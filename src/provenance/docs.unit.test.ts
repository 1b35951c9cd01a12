// The example statements of docs/provenance.md are valid: parseStatement takes
// each of them, one per predicate type.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../paths.js';
import { KNOWN_PREDICATE_TYPES, parseStatement } from './statement.js';

const doc = readFileSync(join(packageRoot, 'docs', 'provenance.md'), 'utf8');
const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)]
  .map((m) => m[1] ?? '')
  .filter((block) => block.includes('"_type"'))
  .map((block) => JSON.parse(block) as unknown);

describe('docs/provenance.md', () => {
  it('shows one valid example statement of each predicate type', () => {
    const types = examples.map((example) => parseStatement(example).predicateType);
    assert.deepEqual([...types].sort(), [...KNOWN_PREDICATE_TYPES].sort());
  });
});
