// Asserting typed errors in tests: the code of the ProvenantError a call throws.
import assert from 'node:assert/strict';
import { isProvenantError, type ErrorCode } from '../../src/errors.js';

/** The `code` of the ProvenantError `fn` throws; fails the test if it throws anything else or nothing. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(isProvenantError(error), `expected a ProvenantError, got ${String(error)}`);
    return error.code;
  }
  assert.fail('expected an error');
}

/** For `assert.rejects` / `assert.throws`: the error is a ProvenantError with `code`. */
export const hasCode =
  (code: ErrorCode) =>
  (error: unknown): boolean => {
    assert.ok(isProvenantError(error), `expected a ProvenantError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
