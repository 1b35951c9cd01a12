// Documentation is part of the product: every error code and every configuration
// variable appears in the README (fastify's errors test is the model).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configVariables } from '../src/config.js';
import { errorCodes } from '../src/errors.js';
import { readmePath, renderReadme } from '../scripts/docs.js';

const readme = readFileSync(readmePath, 'utf8');

describe('README', () => {
  it('documents every error code of the registry', () => {
    const missing = Object.keys(errorCodes).filter((code) => !readme.includes(`| \`${code}\` |`));
    assert.deepEqual(
      missing,
      [],
      `undocumented error codes (run npm run docs): ${missing.join(', ')}`,
    );
  });

  it('documents every configuration variable', () => {
    const missing = configVariables
      .map(([name]) => name)
      .filter((name) => !readme.includes(`| \`${name}\` |`));
    assert.deepEqual(
      missing,
      [],
      `undocumented variables (run npm run docs): ${missing.join(', ')}`,
    );
  });

  it('has generated tables that are up to date', () => {
    assert.equal(readme, renderReadme(readme), 'README tables are stale: run npm run docs');
  });

  it('gives the two quick-start commands', () => {
    assert.match(readme, /npm install && npm start/);
    assert.match(readme, /npm test/);
  });
});
