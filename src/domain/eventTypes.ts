// The names of the domain event types and the shape of a domain event, apart
// from their data (events.ts, logEvents.ts), so that each of those files can
// use them without importing the other.

/** A domain event as the deciders see it: a versioned type name and its data. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/** The event type names, one constant each, so that nothing spells them twice. */
export const EventTypes = {
  ReceiptRecorded: 'ReceiptRecorded.v1',
  ReceiptRevoked: 'ReceiptRevoked.v1',
  GateDefined: 'GateDefined.v1',
  GateDisabled: 'GateDisabled.v1',
  StageDefined: 'StageDefined.v1',
  StageDisabled: 'StageDisabled.v1',
  GatePassed: 'GatePassed.v1',
  GateFailed: 'GateFailed.v1',
  GateReopened: 'GateReopened.v1',
  StagePassed: 'StagePassed.v1',
  StageReopened: 'StageReopened.v1',
  AttestationIssued: 'AttestationIssued.v1',
  UnitExported: 'UnitExported.v1',
  CheckpointSigned: 'CheckpointSigned.v1',
  CheckpointCosigned: 'CheckpointCosigned.v1',
  LogKeyRotated: 'LogKeyRotated.v1',
} as const;

/** Every domain event type this module defines. */
export type EventTypeName = (typeof EventTypes)[keyof typeof EventTypes];
