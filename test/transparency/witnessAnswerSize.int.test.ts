// A witness that answers without end (broken, or hostile) cannot fill the
// store's memory: a tlog-witness answer is read up to 64 KiB and the attempt
// fails; a plain POST witness's answer is not read at all. Each closes the
// connection at once instead of reading until the attempt's timeout (which,
// on a fast link, is gigabytes). `boundedText` is the reader behind both.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AnswerTooLarge, boundedText } from '../../src/boundedAnswer.js';
import { checkpointText, noteSigner, signNote } from '../../src/transparency/note.js';
import { createWitnessPoster } from '../../src/transparency/witness/post.js';
import { createTlogWitnessClient } from '../../src/transparency/witness/tlogWitness.js';

const MiB = 1024 ** 2;
const chunk = Buffer.alloc(64 * 1024, 'a');
let server: Server;
let url: string;
/** Bytes the server wrote before each client went away. */
const written: number[] = [];

before(async () => {
  // /endless: 200, chunked, no length, until the client closes. /long: a declared 2 MiB.
  server = createServer((req, res) => {
    req.resume();
    if (req.url?.endsWith('/long')) {
      res.writeHead(200, { 'content-length': String(2 * MiB) });
      res.end(Buffer.alloc(2 * MiB, 'b'));
      return;
    }
    if (req.url?.endsWith('/short')) {
      res.end('fine\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    let sent = 0;
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) sent += chunk.length;
    };
    res.on('drain', pump);
    res.on('close', () => written.push(sent));
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const ORIGIN = 'answers.example/log';
const signer = noteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
const note = signNote(
  checkpointText({ origin: ORIGIN, size: 1, root: createHash('sha256').update('x').digest() }),
  signer,
);

describe('answers longer than a reader takes', () => {
  it('boundedText: the text under the bound; AnswerTooLarge past it, declared or not', async () => {
    assert.equal(await boundedText(await fetch(`${url}/short`), 100), 'fine\n');
    await assert.rejects(boundedText(await fetch(`${url}/long`), MiB), AnswerTooLarge);
    await assert.rejects(boundedText(await fetch(`${url}/endless`), MiB), AnswerTooLarge);
  });

  it('a tlog-witness that answers without end fails the attempt at 64 KiB, long before its timeout', async () => {
    const logged: string[] = [];
    const client = createTlogWitnessClient({
      url: `${url}/endless`,
      keys: [],
      readNodes: () => Promise.resolve([]),
      record: () => Promise.resolve(),
      attempts: 1,
      timeoutMs: 20_000,
      log: (_level, message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`),
    });
    const startedAt = Date.now();
    client.offer(note, 1);
    await client.drain();
    assert.ok(Date.now() - startedAt < 10_000, `took ${Date.now() - startedAt} ms`);
    assert.equal(client.stats().failed, 1);
    assert.match(logged.join('\n'), /answered 200 with more than 65536 bytes/);
  });

  it('a POST witness is delivered to without its answer being read', async () => {
    const poster = createWitnessPoster({ url: `${url}/endless`, attempts: 1, timeoutMs: 20_000 });
    const startedAt = Date.now();
    poster.offer(note, 1);
    await poster.drain();
    assert.ok(Date.now() - startedAt < 10_000, `took ${Date.now() - startedAt} ms`);
    assert.deepEqual(poster.stats(), { posted: 1, failed: 0, superseded: 0 });
  });

  it('every reader closed the connection well before 64 MiB', async () => {
    for (let i = 0; i < 100 && written.length < 3; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(written.length, 3, `connections closed: ${written.join(', ')}`);
    for (const bytes of written) assert.ok(bytes < 64 * MiB, `${bytes} bytes written`);
  });
});
