// Typed errors of the event-store port. The revision conflict lives beside the
// sentinels in expectedRevision.ts; everything else is here. Each carries a code
// from the one registry (src/errors.ts).
import { ProvenantError, type ProvenantErrorOptions } from '../errors.js';

export { RevisionConflictError, isRevisionConflictError } from './expectedRevision.js';

/** The same idempotency key was stored before with different content. */
export class IdempotencyConflictError extends ProvenantError {
  constructor(
    readonly key: string,
    readonly existingEventId: string | undefined,
    reason: string,
  ) {
    super('STORE_IDEMPOTENCY_CONFLICT', `Idempotency key '${key}' conflicts: ${reason}`, {
      details: { key, existingEventId },
    });
    this.name = 'IdempotencyConflictError';
  }
}

export const isIdempotencyConflictError = (error: unknown): error is IdempotencyConflictError =>
  error instanceof IdempotencyConflictError;

/** The backend cannot be reached or refused service; nothing was acknowledged. */
export class BackendUnavailableError extends ProvenantError {
  constructor(message: string, options: ProvenantErrorOptions = {}) {
    super('STORE_BACKEND_UNAVAILABLE', message, options);
    this.name = 'BackendUnavailableError';
  }
}

export const isBackendUnavailableError = (error: unknown): error is BackendUnavailableError =>
  error instanceof BackendUnavailableError;

export const storeClosed = (): ProvenantError =>
  new ProvenantError('STORE_CLOSED', 'The event store is closed');
