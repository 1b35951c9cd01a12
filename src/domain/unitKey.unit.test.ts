import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isProvenantError } from '../errors.js';
import {
  formatUnitKey,
  isValidUnitKey,
  normalizeUnitKey,
  parseUnitKey,
  unitStreamName,
} from './unitKey.js';

const invalid = (key: unknown, fragment: RegExp): void => {
  assert.throws(
    () => parseUnitKey(key),
    (error) =>
      isProvenantError(error) &&
      error.code === 'DOMAIN_INVALID_UNIT_KEY' &&
      fragment.test(error.message),
  );
};

describe('unit keys (NVRPP)', () => {
  it('parses the five parts and formats them back', () => {
    const key = parseUnitKey('openssl/3.2.1/2.el9/x86_64/rpm');
    assert.deepEqual(key, {
      name: 'openssl',
      version: '3.2.1',
      release: '2.el9',
      platform: 'x86_64',
      packageType: 'rpm',
    });
    assert.equal(formatUnitKey(key), 'openssl/3.2.1/2.el9/x86_64/rpm');
  });

  it('accepts real-world version punctuation (epoch, tilde, caret, plus)', () => {
    assert.equal(
      normalizeUnitKey('vim/2:9.0~rc1^git+1/1.fc40/noarch/rpm'),
      'vim/2:9.0~rc1^git+1/1.fc40/noarch/rpm',
    );
  });

  it('names the unit stream unit-<key>', () => {
    assert.equal(
      unitStreamName('openssl/3.2.1/2.el9/x86_64/rpm'),
      'unit-openssl/3.2.1/2.el9/x86_64/rpm',
    );
    assert.equal(unitStreamName(parseUnitKey('a/1/1/any/oci')), 'unit-a/1/1/any/oci');
  });

  it('rejects a wrong number of parts', () => {
    invalid('openssl/3.2.1/2.el9/x86_64', /expected 5 parts.*got 4 \(or a package URL: pkg:/);
    invalid('openssl/3.2.1/2.el9/x86_64/rpm/extra', /got 6/);
  });

  it('rejects empty parts, naming the part', () => {
    invalid('openssl//2.el9/x86_64/rpm', /version must not be empty/);
    invalid('/3/2/x/rpm', /name must not be empty/);
    invalid('', /must not be empty/);
  });

  it('rejects unsafe characters and traversal', () => {
    invalid('open ssl/1/1/x/rpm', /name 'open ssl' must start/);
    invalid('../1/1/x/rpm', /name '\.\.'/);
    invalid('a/1/1/x/RPM', /packageType 'RPM' must be lower-case/);
    invalid('a/1/1/x\u0000/rpm', /platform 'x\?'/);
    invalid('a/1;rm/1/x/rpm', /version/);
  });

  it('rejects over-long parts and keys', () => {
    invalid(`${'a'.repeat(101)}/1/1/x/rpm`, /name is 101 characters long; the limit is 100/);
    const long = ['a', 'b', 'c', 'd'].map((c) => c.repeat(62)).join('/') + '/rpm';
    invalid(long, /the limit is 250/);
  });

  it('rejects non-strings', () => {
    invalid(42, /must be a string/);
    assert.equal(isValidUnitKey(undefined), false);
    assert.equal(isValidUnitKey('a/1/1/x/rpm'), true);
  });
});
