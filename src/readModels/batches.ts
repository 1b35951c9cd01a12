// Cuts a subscription into batches: up to `size` events, or what arrived within
// `windowMs` of a batch's first event. An event still being awaited when the
// window closes is kept for the next batch, so nothing is lost or read twice.
import type { RecordedEvent } from '../eventStore/types.js';

export class Batches {
  private pending: Promise<IteratorResult<RecordedEvent>> | undefined;
  private done = false;

  constructor(
    private readonly iterator: AsyncIterator<RecordedEvent>,
    private readonly size: number,
    private readonly windowMs: number,
  ) {}

  private pull(): Promise<IteratorResult<RecordedEvent>> {
    if (this.pending === undefined) {
      this.pending = this.iterator.next();
      // Awaited by the next batch; until then a failure must not count as unhandled.
      this.pending.catch(() => undefined);
    }
    return this.pending;
  }

  /** The next batch; empty when the subscription has ended. */
  async next(): Promise<RecordedEvent[]> {
    if (this.done) return [];
    const first = await this.pull();
    this.pending = undefined;
    if (first.done === true) {
      this.done = true;
      return [];
    }
    const batch = [first.value];
    let timer: NodeJS.Timeout | undefined;
    const window = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.windowMs);
    });
    try {
      while (batch.length < this.size) {
        const result = await Promise.race([this.pull(), window]);
        if (result === 'timeout') break;
        this.pending = undefined;
        if (result.done === true) {
          this.done = true;
          break;
        }
        batch.push(result.value);
      }
    } finally {
      clearTimeout(timer);
    }
    return batch;
  }
}
