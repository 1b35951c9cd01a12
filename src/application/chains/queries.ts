// Chains as the API shows them (`GET /v1/chains`, docs/chains.md): folded from the
// chain streams, read from the log through the port (a filtered read of the
// `chain-` streams; no read model yet — the cost grows with the number of chain
// events, which only chained CDEvents without a unit of their own and bindings add).
import type { EventStore, RecordedEvent } from '../../eventStore/types.js';
import { CHAIN_STREAM_PREFIX, foldChain, loadChain, type ChainState } from './chainStream.js';

/** One chain as listed. */
export interface ChainView {
  chainId: string;
  bound: boolean;
  unit: string | null;
  owner: string | null;
  boundBy: { source: string; id: string; type: string } | null;
  /** CloudEvents stored in the chain before it was bound (their receipts follow the binding). */
  pending: { source: string; id: string; type: string }[];
  conflicts: {
    kind: 'unit' | 'source';
    boundUnit?: string;
    otherUnit?: string;
    ownerSource?: string;
    event: { source: string; id: string; type: string };
  }[];
  lastRecordedAt: string | null;
}

export interface ChainFilter {
  bound?: boolean;
  /** Only chains with (true) or without (false) conflicts. */
  conflicts?: boolean;
}

const PAGE = 1000;

export const chainView = (state: ChainState): ChainView => ({
  chainId: state.chainId,
  bound: state.unit !== undefined,
  unit: state.unit ?? null,
  owner: state.owner ?? null,
  boundBy: state.boundBy ?? null,
  pending: [...state.pending.values()].map((p) => ({
    source: p.cloudEvent.source,
    id: p.cloudEvent.id,
    type: p.cloudEvent.type,
  })),
  conflicts: state.conflicts.map((c) => ({ ...c })),
  lastRecordedAt: state.lastRecordedAt ?? null,
});

/** Every chain matching `filter`, oldest first, at most `limit`. */
export async function listChains(
  store: EventStore,
  filter: ChainFilter,
  limit: number,
): Promise<ChainView[]> {
  const byStream = new Map<string, { chainId: string; events: RecordedEvent[] }>();
  let from: bigint | 'start' = 'start';
  for (;;) {
    const page = await store.readAll({
      from,
      maxCount: PAGE,
      filter: { streamPrefix: [CHAIN_STREAM_PREFIX] },
    });
    for (const event of page) {
      const chainId = (event.data as { chainId?: unknown }).chainId;
      if (typeof chainId !== 'string') continue;
      const entry = byStream.get(event.stream);
      if (entry === undefined) byStream.set(event.stream, { chainId, events: [event] });
      else entry.events.push(event);
    }
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) break;
    from = last.position;
  }
  const views: ChainView[] = [];
  for (const { chainId, events } of byStream.values()) {
    const view = chainView(foldChain(chainId, events));
    if (filter.bound !== undefined && view.bound !== filter.bound) continue;
    if (filter.conflicts !== undefined && view.conflicts.length > 0 !== filter.conflicts) continue;
    views.push(view);
    if (views.length >= limit) break;
  }
  return views;
}

/** One chain, or undefined when nothing of it is stored. */
export async function getChain(store: EventStore, chainId: string): Promise<ChainView | undefined> {
  const { state, revision } = await loadChain(store, chainId);
  return revision === 'no_stream' ? undefined : chainView(state);
}
