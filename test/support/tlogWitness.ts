// A C2SP tlog-witness (https://c2sp.org/tlog-witness) on loopback, written from
// the spec for the tests: its own Ed25519 key, one log it trusts (origin and
// note key), the latest size and root it cosigned, and `add-checkpoint`
// answered as the spec says: 404 (unknown origin), 403 (no trusted signature),
// 400 (a malformed body, old size beyond the checkpoint), 409 + text/x.tlog.size
// (the old size is not the one it holds, or the same size with another root),
// 422 (the consistency proof does not verify), 200 with a timestamped
// cosignature/v1 line (https://c2sp.org/tlog-cosignature). The cosignature is
// made here, byte by byte from the spec, not by the code under test.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { verifyConsistency } from '../../src/transparency/merkle.js';
import { openCheckpoint, parseVerifierKey } from '../../src/transparency/note.js';

export interface WitnessRequest {
  old: number;
  proofLines: number;
  size: number | undefined;
  status: number;
}

export interface TestWitness {
  /** The submission prefix: requests go to `<url>/add-checkpoint`. */
  url: string;
  /** Its cosignature/v1 vkey. */
  vkey: string;
  name: string;
  /** The latest checkpoint it cosigned. */
  state: { size: number; root: Buffer };
  requests: WitnessRequest[];
  /** 'timestamp': the cosignature names another time than the one signed (a bad cosignature). */
  tamper: 'none' | 'timestamp';
  /** When true, every request is answered 503 and changes nothing (a witness down for a while). */
  unavailable: boolean;
  close(): Promise<void>;
}

const rawPublicKey = (der: Buffer): Buffer => der.subarray(der.length - 32);

export async function startTestWitness(options: {
  name: string;
  origin: string;
  /** The log's note verifier key. */
  logKey: string;
}): Promise<TestWitness> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = rawPublicKey(publicKey.export({ format: 'der', type: 'spki' }));
  // Key ID: SHA-256(name || "\n" || 0x04 || public key)[:4].
  const keyId = createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${options.name}\n`), Buffer.from([0x04]), pub]))
    .digest()
    .subarray(0, 4);
  const logVerifier = parseVerifierKey(options.logKey);
  const w: TestWitness = {
    url: '',
    vkey: `${options.name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([0x04]), pub]).toString('base64')}`,
    name: options.name,
    state: { size: 0, root: createHash('sha256').digest() },
    requests: [],
    tamper: 'none',
    unavailable: false,
    close: () => Promise.resolve(),
  };

  const cosign = (noteText: string): string => {
    const time = BigInt(Math.floor(Date.now() / 1000));
    const message = `cosignature/v1\ntime ${time}\n${noteText}`;
    const signature = sign(null, Buffer.from(message), privateKey);
    const stamp = Buffer.alloc(8);
    stamp.writeBigUInt64BE(w.tamper === 'timestamp' ? time + 1n : time);
    return `— ${options.name} ${Buffer.concat([keyId, stamp, signature]).toString('base64')}\n`;
  };

  /** One add-checkpoint: [status, content type, body]. */
  const addCheckpoint = (body: string, log: WitnessRequest): [number, string, string] => {
    if (w.unavailable) return [503, 'text/plain', 'unavailable\n'];
    const blank = body.indexOf('\n\n');
    if (blank < 0) return [400, 'text/plain', 'no empty line\n'];
    const head = body.slice(0, blank).split('\n');
    const note = body.slice(blank + 2);
    const oldLine = /^old (0|[1-9][0-9]*)$/.exec(head[0] ?? '');
    if (oldLine === null) return [400, 'text/plain', 'no old size line\n'];
    const old = Number(oldLine[1]);
    const proof = head.slice(1).map((line) => Buffer.from(line, 'base64'));
    log.old = old;
    log.proofLines = proof.length;
    if (proof.length > 63 || proof.some((h) => h.length !== 32))
      return [400, 'text/plain', 'bad proof lines\n'];
    const origin = note.split('\n', 1)[0];
    if (origin !== options.origin) return [404, 'text/plain', 'unknown origin\n'];
    let checkpoint;
    try {
      checkpoint = openCheckpoint(note, [logVerifier]);
    } catch {
      return [403, 'text/plain', 'no trusted signature\n'];
    }
    log.size = checkpoint.size;
    if (old > checkpoint.size) return [400, 'text/plain', 'old size beyond the checkpoint\n'];
    const sizeAnswer: [number, string, string] = [409, 'text/x.tlog.size', `${w.state.size}\n`];
    if (old !== w.state.size) return sizeAnswer;
    if (old === 0 && proof.length > 0) return [400, 'text/plain', 'a proof from 0\n'];
    if (old === checkpoint.size) {
      if (!checkpoint.root.equals(w.state.root)) return sizeAnswer;
    } else if (
      old > 0 &&
      verifyConsistency(old, checkpoint.size, proof, w.state.root, checkpoint.root) !== undefined
    )
      return [422, 'text/plain', 'the consistency proof does not verify\n'];
    // Checked and updated in one turn of the event loop: atomic.
    w.state = { size: checkpoint.size, root: checkpoint.root };
    return [200, 'text/plain; charset=utf-8', cosign(note.slice(0, note.lastIndexOf('\n\n') + 1))];
  };

  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/witness/add-checkpoint') {
        response.writeHead(404).end();
        return;
      }
      const log: WitnessRequest = { old: -1, proofLines: 0, size: undefined, status: 0 };
      const [status, type, answer] = addCheckpoint(body, log);
      log.status = status;
      w.requests.push(log);
      response.writeHead(status, { 'content-type': type }).end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  w.url = `http://127.0.0.1:${port}/witness`;
  w.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return w;
}
