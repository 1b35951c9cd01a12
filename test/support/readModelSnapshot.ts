// Every row of every read model, and each projection's checkpoint: what two
// sets of read models are compared by (rebuilt against incremental, restored
// against fresh).
import { projections } from '../../projections/index.js';
import type { ReadModelReader } from '../../src/readModels/index.js';

export async function readModelSnapshot(
  store: ReadModelReader & { getCheckpoint(projection: string): Promise<bigint | undefined> },
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const p of projections) {
    for (const table of p.tables) out[table.name] = (await store.find(table)).rows;
    out[`${p.name}@`] = await store.getCheckpoint(p.name);
  }
  return out;
}
