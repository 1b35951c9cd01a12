// Ingest CloudEvents (structured, binary or batch mode): `src/ingest` parses,
// limits, validates and classifies the request (docs/ingest.md); each valid event
// is then executed. Receipts go to the domain (one atomic append of the receipt
// and its verdicts to the unit's stream; a batch's receipts together, one append
// per unit); other pipeline events to their source's stream. Both carry the
// CloudEvent's idempotency key and digest: a redelivery appends nothing and
// returns the original result; different content under the same key is a 409.
import { ProvenantError, isProvenantError } from '../../errors.js';
import type { EventMetadata, EventStore } from '../../eventStore/types.js';
import {
  ingestRequest,
  traceparentOf,
  type IngestCommand,
  type IngestLimits,
  type ChainedCDEventCommand,
  type IngestResult,
  type ReceiptCommand,
  type SignaturePolicy,
} from '../../ingest/index.js';
import { unitAliases } from '../../domain/purl.js';
import { assertInScope } from '../../security/scope.js';
import { recordPipelineEvent } from '../commands/recordPipelineEvent.js';
import { recordChainedEvent } from '../chains/recordChained.js';
import { notAhead } from './futureTimes.js';
import { rejectedWith } from './rejected.js';
import type { ReceiptCommands, RecordReceiptOptions, RecordReceiptResult } from '../types.js';
import type {
  Actor,
  BatchItem,
  CloudEventsRequest,
  IngestEventsResult,
  IngestOutcome,
  ReceiptOutcome,
} from './types.js';

/** What CloudEvents ingest needs. */
export interface IngestDeps {
  readonly store: EventStore;
  readonly receipts: Pick<ReceiptCommands, 'recordReceipt' | 'recordReceipts'>;
  readonly limits: IngestLimits;
  /** Producers' signatures: verified, required or recorded as absent (none: not checked). */
  readonly signaturePolicy?: SignaturePolicy;
  /**
   * Hears about errors inside a batch that are not `ProvenantError`s: they are
   * reported to the client as `INTERNAL` without details, so the server log is
   * where they can be read.
   */
  readonly onUnexpectedError?: (error: unknown) => void;
}

export const receiptOutcome = (result: RecordReceiptResult): ReceiptOutcome => ({
  kind: 'receipt',
  eventId: result.eventId,
  receiptId: result.receiptId,
  unit: result.unit,
  stream: result.stream,
  revision: result.revision,
  position: result.position,
  duplicate: result.duplicate,
  verdicts: result.verdicts,
});

const metadataOf = (
  command: IngestCommand,
  traceparent: string | undefined,
  actor: Actor | undefined,
): EventMetadata => ({
  context: command.context,
  ...(traceparent === undefined ? {} : { traceparent }),
  ...(actor === undefined ? {} : { principal: actor.principal }),
  ...(command.signature === undefined ? {} : { signature: { ...command.signature } }),
});

/** The result, or its rejection with AUTH_PRODUCER_SCOPE when the actor may not record it. */
function withinScope(result: IngestResult, actor: Actor | undefined): IngestResult {
  if (!result.ok || actor?.scope === undefined) return result;
  const { command } = result;
  try {
    assertInScope(actor.principal, actor.scope, {
      source: command.context.source,
      type: command.context.type,
      ...(command.kind === 'receipt'
        ? { action: command.input.action, unit: unitAliases(command.input.unit) }
        : {}),
    });
    return result;
  } catch (error) {
    if (!isProvenantError(error)) throw error;
    return rejectedWith(result, error);
  }
}

const receiptOptions = (
  command: ReceiptCommand,
  metadata: EventMetadata,
): RecordReceiptOptions => ({
  idempotencyKey: command.idempotencyKey,
  idempotencyDigest: command.idempotencyDigest,
  metadata,
});

type Settled = { ok: true; outcome: IngestOutcome } | { ok: false; error: unknown };

const settled = (work: Promise<IngestOutcome>): Promise<Settled> =>
  work.then(
    (outcome) => ({ ok: true as const, outcome }),
    (error: unknown) => ({ ok: false as const, error }),
  );

/** The `ingestCloudEvents` use case. */
export function ingestCloudEvents(deps: IngestDeps) {
  const { store, receipts, limits } = deps;

  function execute(
    command: IngestCommand,
    traceparent: string | undefined,
    actor: Actor | undefined,
  ): Promise<IngestOutcome> {
    const metadata = metadataOf(command, traceparent, actor);
    if (command.kind === 'chained-cdevent') return executeChained(command, metadata, actor);
    return command.kind === 'receipt'
      ? receipts
          .recordReceipt(command.input, receiptOptions(command, metadata))
          .then(receiptOutcome)
      : recordPipelineEvent(store, command, metadata);
  }

  /** A chained CDEvent: a receipt for its chain's unit, or pending until the chain binds. */
  async function executeChained(
    command: ChainedCDEventCommand,
    metadata: EventMetadata,
    actor: Actor | undefined,
  ): Promise<IngestOutcome> {
    // Its action and unit are known only with its chain's unit: checked there.
    const producer =
      actor?.scope === undefined
        ? undefined
        : {
            principal: actor.principal,
            scope: { actions: actor.scope.actions, units: actor.scope.units },
          };
    const result = await recordChainedEvent(store, receipts, command, metadata, producer);
    return 'kind' in result ? result : receiptOutcome(result);
  }

  /** A batch item from what executing it did; unexpected errors become `INTERNAL`. */
  function itemOf(index: number, command: IngestCommand, result: Settled): BatchItem {
    const identity = { index, id: command.context.id ?? '', source: command.context.source ?? '' };
    if (result.ok) return { ...identity, ok: true, outcome: result.outcome };
    if (isProvenantError(result.error)) return { ...identity, ok: false, error: result.error };
    deps.onUnexpectedError?.(result.error);
    return {
      ...identity,
      ok: false,
      error: new ProvenantError('INTERNAL', 'An internal error occurred; see the server log'),
    };
  }

  /**
   * Executes a batch: receipts go to the domain together (`recordReceipts`),
   * pipeline events are appended one by one, and everything starts at once so
   * that group commit gathers the appends.
   */
  async function executeBatch(
    results: readonly IngestResult[],
    traceparent: string | undefined,
    actor: Actor | undefined,
  ): Promise<BatchItem[]> {
    const receiptCommands: ReceiptCommand[] = [];
    const slot = new Map<number, number>();
    for (const result of results)
      if (result.ok && result.command.kind === 'receipt') {
        slot.set(result.index, receiptCommands.length);
        receiptCommands.push(result.command);
      }
    const recorded = receipts
      .recordReceipts(
        receiptCommands.map((command) => ({
          input: command.input,
          options: receiptOptions(command, metadataOf(command, traceparent, actor)),
        })),
      )
      .catch((error: unknown) => receiptCommands.map(() => ({ ok: false as const, error })));
    return Promise.all(
      results.map(async (result): Promise<BatchItem> => {
        if (!result.ok)
          return {
            index: result.index,
            ...(result.id === undefined ? {} : { id: result.id }),
            ...(result.source === undefined ? {} : { source: result.source }),
            ok: false,
            error: result.error,
          };
        const { command } = result;
        if (command.kind === 'chained-cdevent')
          return itemOf(
            result.index,
            command,
            await settled(executeChained(command, metadataOf(command, traceparent, actor), actor)),
          );
        if (command.kind !== 'receipt')
          return itemOf(
            result.index,
            command,
            await settled(
              recordPipelineEvent(store, command, metadataOf(command, traceparent, actor)),
            ),
          );
        const item = (await recorded)[slot.get(result.index) ?? -1];
        return itemOf(
          result.index,
          command,
          item === undefined
            ? { ok: false, error: new Error(`No outcome for batch item ${result.index}`) }
            : item.ok
              ? { ok: true, outcome: receiptOutcome(item.result) }
              : item,
        );
      }),
    );
  }

  return async (request: CloudEventsRequest): Promise<IngestEventsResult> => {
    const parsed = ingestRequest(request, limits, deps.signaturePolicy);
    const { mode } = parsed;
    const { actor } = request;
    const now = Date.now();
    const results = parsed.results.map((result) =>
      notAhead(withinScope(result, actor), now, limits.maxFutureSkewMs),
    );
    const traceparent = traceparentOf(request.headers);
    if (mode === 'batch') return { mode, items: await executeBatch(results, traceparent, actor) };
    const [only] = results;
    // Structured and binary requests carry one event; ingest throws when it is invalid.
    if (only === undefined || !only.ok || results.length !== 1)
      throw only !== undefined && !only.ok
        ? only.error
        : new ProvenantError('INTERNAL', `A ${mode} request must yield exactly one event`);
    return { mode, outcome: await execute(only.command, traceparent, actor) };
  };
}
