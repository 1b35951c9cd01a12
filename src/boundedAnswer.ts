// Reading an HTTP answer from a peer this process does not control (a
// witness, an OIDC issuer, a store the CLI asks) without trusting its size.
// `response.text()` reads whatever arrives until the request's timeout: on a
// fast link a broken or hostile peer fills gigabytes first (1.1 GB in 5 s on
// loopback, measured). These read at most `maxBytes`, then cancel the body.

/** The answer was longer than the reader's bound. */
export class AnswerTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the answer is longer than ${maxBytes} bytes`);
    this.name = 'AnswerTooLarge';
  }
}

/** The body as UTF-8 text, or AnswerTooLarge past `maxBytes` (the rest is not read). */
export async function boundedText(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new AnswerTooLarge(maxBytes);
  }
  if (response.body === null) return '';
  // The DOM typings give fetch's body chunks as `any`; they are bytes.
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new AnswerTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Lets the body go unread (the connection is not kept busy reading it). */
export const discardAnswer = async (response: Response): Promise<void> => {
  await response.body?.cancel().catch(() => undefined);
};
