// The one place where driver errors become port errors: nothing from
// @eventstore/db-client or gRPC crosses the port (DESIGN.md §2). Pure.
import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  NotLeaderError,
  StreamDeletedError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
  convertToCommandError,
} from '@eventstore/db-client';
import { ProvenantError } from '../../errors.js';
import { BackendUnavailableError } from '../errors.js';
import { RevisionConflictError, type ExpectedRevision } from '../expectedRevision.js';
import { fromEsdbExpectedRevision, fromEsdbRevision } from './mapping.js';

/** What the adapter was doing, for the message and the conflict details. */
export interface EsdbErrorContext {
  /** e.g. `append to 'unit-x'`, `read $all`. */
  operation: string;
  stream?: string;
  /** The caller's expected revision, reported in a conflict instead of the server's. */
  expectedRevision?: ExpectedRevision;
}

// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) that
// mean "the server could not be reached or did not answer in time".
const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
const TRANSIENT_GRPC_CODES = new Set([GRPC_CANCELLED, GRPC_DEADLINE_EXCEEDED, GRPC_UNAVAILABLE]);

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** The client's own classification of a raw gRPC error (it never throws, unlike the client's). */
function classify(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  try {
    return convertToCommandError(error);
  } catch {
    return error; // e.g. a numeric `code` without gRPC `details`
  }
}

const hasTransientGrpcCode = (error: Error): boolean => {
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'number' && TRANSIENT_GRPC_CODES.has(code);
};

/** Whether an error means the server is (for now) out of reach, so that retrying later may work. */
export function isTransientEsdbError(error: unknown): boolean {
  if (error instanceof BackendUnavailableError) return true;
  const converted = classify(error);
  if (!(converted instanceof Error)) return false;
  return (
    converted instanceof UnavailableError ||
    converted instanceof DeadlineExceededError ||
    converted instanceof TimeoutError ||
    converted instanceof CancelledError ||
    converted instanceof NotLeaderError ||
    hasTransientGrpcCode(converted) ||
    /Failed to discover after \d+ attempts/.test(converted.message)
  );
}

/**
 * Translates anything the client throws into a typed port error:
 * - `WrongExpectedVersionError` → `RevisionConflictError` (STORE_REVISION_CONFLICT);
 * - the raw gRPC `UNAVAILABLE` error an append rejects with when the server is
 *   down, the client's `UnavailableError` on reads, deadlines, cancellations,
 *   not-leader answers and failed cluster discovery → `BackendUnavailableError`;
 * - `AccessDeniedError` → ESDB_ACCESS_DENIED;
 * - a too-large append → STORE_INVALID_EVENT; a deleted stream → STORE_INTEGRITY_VIOLATION;
 * - anything else → ESDB_UNEXPECTED, with the original as `cause`.
 * Port errors pass through unchanged. Messages never contain credentials: the
 * client's messages carry gRPC status details, never the connection string.
 */
export function translateEsdbError(error: unknown, context: EsdbErrorContext): ProvenantError {
  if (error instanceof ProvenantError) return error;
  const converted = classify(error);
  const { operation } = context;

  if (converted instanceof WrongExpectedVersionError) {
    const stream = context.stream ?? converted.streamName;
    return new RevisionConflictError(
      stream,
      context.expectedRevision ?? fromEsdbExpectedRevision(converted.expectedVersion),
      fromEsdbRevision(converted.actualVersion),
    );
  }
  if (isTransientEsdbError(converted)) {
    const hint =
      converted instanceof NotLeaderError
        ? ' (the node is not the leader; the client reconnects to the leader on the next call)'
        : converted instanceof DeadlineExceededError || converted instanceof TimeoutError
          ? ' (timed out: the outcome is unknown, retry with the same idempotency key)'
          : '';
    return new BackendUnavailableError(
      `EventStoreDB/KurrentDB is unavailable: ${operation} failed: ${messageOf(converted)}${hint}`,
      { cause: error },
    );
  }
  if (converted instanceof AccessDeniedError)
    return new ProvenantError(
      'ESDB_ACCESS_DENIED',
      `EventStoreDB/KurrentDB denied ${operation}: check the configured user and its access (Provenant writes $-streams, which need a member of $admins or a matching $systemStreamAcl)`,
      { cause: error },
    );
  if (converted instanceof MaxAppendSizeExceededError)
    return new ProvenantError(
      'STORE_INVALID_EVENT',
      `${operation} exceeds the server's maximum append size of ${converted.maxAppendSize} bytes`,
      { cause: error },
    );
  if (converted instanceof StreamDeletedError)
    return new ProvenantError(
      'STORE_INTEGRITY_VIOLATION',
      `Stream '${converted.streamName}' has been deleted on the server, which Provenant never does: ${operation} refused`,
      { cause: error },
    );
  return new ProvenantError(
    'ESDB_UNEXPECTED',
    `EventStoreDB/KurrentDB error during ${operation}: ${messageOf(converted)}`,
    { cause: error },
  );
}
