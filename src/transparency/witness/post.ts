// The plain witness copy (PROVENANT_CHECKPOINT_WITNESS_PROTOCOL=post, the
// default): each signed checkpoint note is POSTed as text/plain to a service
// outside the store; any 2xx answer counts as delivered, and nothing is read
// back. Delivery, retries and superseding are delivery.ts's.
import { discardAnswer } from '../../boundedAnswer.js';
import { createDelivery, type DeliveryBounds, type WitnessPoster } from './delivery.js';

export interface WitnessPosterOptions extends DeliveryBounds {
  url: string;
}

export function createWitnessPoster(options: WitnessPosterOptions): WitnessPoster {
  const { url } = options;
  return createDelivery({
    ...options,
    failureMessage: 'checkpoint witness post failed',
    async attempt(note, _treeSize, timeoutMs) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: note,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await discardAnswer(response);
      return response.ok
        ? { ok: true }
        : { ok: false, error: `answered ${response.status}`, retry: true };
    },
  });
}
