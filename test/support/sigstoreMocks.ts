// @sigstore/mock's Fulcio, Rekor and TSA served by node:http on loopback, with
// a trusted root made from their keys and certificates: what the keyless tests
// sign against and verify with, offline.
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
  type HandlerFn,
} from '@sigstore/mock';
import { parseTrustedRoot, type TrustedRoot } from '../../src/provenance/verify/index.js';

export const MOCK_IDENTITY = 'ci-bot@example.com';
export const MOCK_ISSUER = 'https://issuer.example.com';

const p256 = (): { publicKey: KeyObject; privateKey: KeyObject } =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A loopback HTTP server answering POSTs to one path with a mock handler. */
async function serve(): Promise<{
  server: Server;
  url: string;
  route: (path: string, fn: HandlerFn) => void;
}> {
  const routes = new Map<string, HandlerFn>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const fn = req.method === 'POST' ? routes.get(req.url ?? '') : undefined;
      if (fn === undefined) {
        res.writeHead(404).end();
        return;
      }
      fn(Buffer.concat(chunks).toString()).then(
        ({ statusCode, response, contentType }) => {
          res.writeHead(statusCode, { 'content-type': contentType ?? 'text/plain' });
          res.end(
            typeof response === 'string'
              ? response
              : Buffer.from(response.buffer, response.byteOffset, response.byteLength),
          );
        },
        (error: unknown) => {
          res.writeHead(500).end(String(error));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, route: (path, fn) => routes.set(path, fn) };
}

/** An unsigned JWT: the mock Fulcio decodes the claims without checking a signature. */
export const identityToken = (): string => {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: MOCK_ISSUER, sub: MOCK_IDENTITY, email: MOCK_IDENTITY, email_verified: true, aud: 'sigstore', iat: now, exp: now + 600 })}.`;
};

const b64 = (bytes: ArrayBufferView): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const der = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });

/** The running mock services and the trusted root that verifies what they sign. */
export interface SigstoreMocks {
  fulcioUrl: string;
  rekorUrl: string;
  tsaUrl: string;
  trustedRoot: TrustedRoot;
  close(): Promise<void>;
}

export async function startSigstoreMocks(): Promise<SigstoreMocks> {
  const [fulcio, rekor, tsa] = await Promise.all([serve(), serve(), serve()]);
  const caKeys = p256();
  const ctKeys = p256();
  const tlogKeys = p256();
  const tsaKeys = p256();
  const ctLog = await initializeCTLog(ctKeys);
  const mockEpoch = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
  const ca = await initializeCA(
    caKeys,
    ctLog,
    // The mock Rekor floors its integrated time to the second while the mock
    // Fulcio stamps notBefore to the millisecond: a certificate issued in the
    // same second would start after its own log entry. Its validity starts on
    // a whole second, a second ago.
    mockEpoch,
  );
  const tlog = await initializeTLog(rekor.url, tlogKeys);
  // The mock TSA writes its time's milliseconds with DER's trailing zeros
  // dropped (".12Z"), which @sigstore/core's parser refuses ("invalid time")
  // whenever they end in 0; its certificates start when it is created. So its
  // clock is fixed just after that, at a millisecond that does not end in 0.
  const tsaClock = new Date(0);
  const timestamps = await initializeTSA(tsaKeys, tsaClock);
  const tsaTime = Date.now() + 5;
  tsaClock.setTime(tsaTime % 10 === 0 ? tsaTime + 1 : tsaTime);
  for (const [target, handler] of [
    [fulcio, fulcioHandler(ca)],
    [rekor, rekorHandler(tlog)],
    [tsa, tsaHandler(timestamps)],
  ] as const) {
    target.route(handler.path, handler.fn);
  }
  const start = new Date(Date.now() - 3600_000).toISOString();
  const logInstance = (url: string, publicKey: KeyObject) => ({
    baseUrl: url,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: der(publicKey).toString('base64'),
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      validFor: { start },
    },
    logId: { keyId: createHash('sha256').update(der(publicKey)).digest('base64') },
  });
  const trustedRoot = parseTrustedRoot({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [logInstance(rekor.url, tlogKeys.publicKey)],
    ctlogs: [
      {
        ...logInstance('https://ctfe.example', ctKeys.publicKey),
        logId: { keyId: b64(ctLog.logID) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'mock', commonName: 'fulcio' },
        uri: fulcio.url,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'mock', commonName: 'tsa' },
        uri: tsa.url,
        certChain: {
          certificates: [
            { rawBytes: b64(timestamps.intCertificate) },
            { rawBytes: b64(timestamps.rootCertificate) },
          ],
        },
        validFor: { start },
      },
    ],
  });
  return {
    fulcioUrl: fulcio.url,
    rekorUrl: rekor.url,
    tsaUrl: tsa.url,
    trustedRoot,
    close: async () => {
      await Promise.all(
        [fulcio, rekor, tsa].map(
          (s) => new Promise<void>((resolve) => s.server.close(() => resolve())),
        ),
      );
    },
  };
}
