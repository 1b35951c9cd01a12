// Error translation, fed with the error objects the client really produces,
// constructed from its own classes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  StreamDeletedError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { ProvenantError } from '../../errors.js';
import { BackendUnavailableError } from '../errors.js';
import { NO_STREAM, RevisionConflictError } from '../expectedRevision.js';
import { isTransientEsdbError, translateEsdbError } from './errors.js';
import { rawUnavailable } from './fakeEsdbClient.testing.js';

const ctx = { operation: "append to 'unit-a'", stream: 'unit-a' };

describe('translateEsdbError', () => {
  it('maps WrongExpectedVersionError to the port conflict with 0-based revisions', () => {
    const error = translateEsdbError(
      new WrongExpectedVersionError(undefined, {
        streamName: 'unit-a',
        expected: 3n,
        current: 5n,
      }),
      ctx,
    );
    assert.ok(error instanceof RevisionConflictError);
    assert.equal(error.code, 'STORE_REVISION_CONFLICT');
    assert.equal(error.expected, 3);
    assert.equal(error.actual, 5);
    const noStream = translateEsdbError(
      new WrongExpectedVersionError(undefined, {
        streamName: 'unit-a',
        expected: 'stream_exists',
        current: 'no_stream',
      }),
      { ...ctx, expectedRevision: 'stream_exists' },
    );
    assert.ok(noStream instanceof RevisionConflictError);
    assert.equal(noStream.actual, NO_STREAM);
    assert.equal(noStream.expected, 'stream_exists');
  });

  it('maps the raw gRPC UNAVAILABLE of an append and the client UnavailableError of a read to BackendUnavailable', () => {
    for (const raw of [
      rawUnavailable(),
      new UnavailableError(undefined, 'No connection established'),
      new DeadlineExceededError(undefined, 'Deadline exceeded'),
      new CancelledError(undefined, 'Cancelled'),
      new Error('Failed to discover after 10 attempts.'),
    ]) {
      const error = translateEsdbError(raw, ctx);
      assert.ok(error instanceof BackendUnavailableError, raw.message);
      assert.equal(error.code, 'STORE_BACKEND_UNAVAILABLE');
      assert.equal(error.cause, raw);
      assert.match(error.message, /append to 'unit-a' failed/);
      assert.equal(isTransientEsdbError(raw), true);
    }
  });

  it('maps access, size and deletion errors to their codes, and anything else to ESDB_UNEXPECTED', () => {
    assert.equal(translateEsdbError(new AccessDeniedError(), ctx).code, 'ESDB_ACCESS_DENIED');
    assert.equal(
      translateEsdbError(MaxAppendSizeExceededError.fromMaxAppendSize(1048576), ctx).code,
      'STORE_INVALID_EVENT',
    );
    assert.equal(
      translateEsdbError(StreamDeletedError.fromStreamName('unit-a'), ctx).code,
      'STORE_INTEGRITY_VIOLATION',
    );
    const unknown = translateEsdbError(new UnknownError(undefined, 'boom'), ctx);
    assert.equal(unknown.code, 'ESDB_UNEXPECTED');
    assert.match(unknown.message, /boom/);
    assert.equal(translateEsdbError('odd', ctx).code, 'ESDB_UNEXPECTED');
    // A numeric code without gRPC details must not crash the client's classifier.
    assert.equal(
      translateEsdbError(Object.assign(new Error('x'), { code: 13 }), ctx).code,
      'ESDB_UNEXPECTED',
    );
    assert.equal(isTransientEsdbError(new AccessDeniedError()), false);
  });

  it('passes port errors through unchanged and never returns a driver error', () => {
    const own = new ProvenantError('STORE_INVALID_EVENT', 'x');
    assert.equal(translateEsdbError(own, ctx), own);
    assert.ok(translateEsdbError(new UnavailableError(), ctx) instanceof ProvenantError);
  });
});
