// The integrity walks: one stream, or the whole log in position order, fed page
// by page to the chain walker, yielding to the event loop between pages so a
// long walk does not starve appends and requests.
import { ChainWalker } from '../chainWalker.js';
import type { EventStore, VerifyResult } from '../types.js';
import { assertStreamName } from '../validation.js';
import { verifyRows } from '../eventRow.js';
import type { Statements } from './statements.js';

const VERIFY_PAGE = 2000;

/** The walks over `stmt`; `assertOpen` is checked before the walk and after every pause. */
export function createVerifier(
  stmt: Statements,
  assertOpen: () => void,
): Pick<EventStore, 'verifyStream' | 'verifyAll'> {
  return {
    async verifyStream(stream: string): Promise<VerifyResult> {
      assertOpen();
      assertStreamName(stream);
      const walker = new ChainWalker();
      let from = 0;
      for (;;) {
        const rows = stmt.streamForward.all(stream, from, VERIFY_PAGE);
        const problem = verifyRows(rows, walker);
        if (problem) return { ok: false, checked: walker.checked, problem };
        if (rows.length < VERIFY_PAGE) return { ok: true, checked: walker.checked };
        from = (rows.at(-1)?.revision ?? 0) + 1;
        await new Promise((resolve) => setImmediate(resolve));
        assertOpen();
      }
    },

    async verifyAll(verifyOptions = {}): Promise<VerifyResult> {
      assertOpen();
      const walker = new ChainWalker();
      let after = 0;
      for (;;) {
        const rows = stmt.allPage.all(after, VERIFY_PAGE);
        const problem = verifyRows(rows, walker);
        if (problem) return { ok: false, checked: walker.checked, problem };
        verifyOptions.onProgress?.(walker.checked);
        if (rows.length < VERIFY_PAGE) return { ok: true, checked: walker.checked };
        after = rows.at(-1)?.position ?? after;
        // Yield between pages so a long walk does not starve appends and requests.
        await new Promise((resolve) => setImmediate(resolve));
        assertOpen();
      }
    },
  };
}
