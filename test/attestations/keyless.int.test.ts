// Keyless signing configured on the server (PROVENANT_FULCIO_URL, _REKOR_URL,
// _TSA_URL, _OIDC_TOKEN_FILE) against @sigstore/mock on loopback: an attestation
// issued with a Fulcio certificate records the certificate's identity and
// verifies against the identity and issuer. (Mock setup as in
// test/provenance/keyless.int.test.ts.)
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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
import { createAttestationService } from '../../src/application/attestations/index.js';
import { loadSigning } from '../../src/composition.js';
import { loadConfig } from '../../src/config.js';
import { parseTrustedRoot, type TrustedRoot } from '../../src/provenance/verify/index.js';
import { UNIT, fixture, passRelease, type Fixture } from '../support/attestations.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-keyless-'));

const IDENTITY = 'ci-bot@example.com';
const ISSUER = 'https://issuer.example.com';

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
const identityToken = (): string => {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: ISSUER, sub: IDENTITY, email: IDENTITY, email_verified: true, aud: 'sigstore', iat: now, exp: now + 600 })}.`;
};

const b64 = (bytes: ArrayBufferView): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const der = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });

describe('keyless signing configured on the server', () => {
  let fulcio: Awaited<ReturnType<typeof serve>>;
  let rekor: Awaited<ReturnType<typeof serve>>;
  let tsa: Awaited<ReturnType<typeof serve>>;
  let trustedRoot: TrustedRoot;
  let f: Fixture;

  before(async () => {
    [fulcio, rekor, tsa] = await Promise.all([serve(), serve(), serve()]);
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
    trustedRoot = parseTrustedRoot({
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
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await f.store.close();
    await Promise.all(
      [fulcio, rekor, tsa].map(
        (s) =>
          new Promise<void>((resolve) =>
            s === undefined ? resolve() : s.server.close(() => resolve()),
          ),
      ),
    );
  });

  it('needs the token file and a Rekor or TSA URL', () => {
    assert.throws(() => loadConfig({ PROVENANT_FULCIO_URL: 'http://127.0.0.1:1' }), {
      code: 'CONFIG_INVALID',
      message: /PROVENANT_OIDC_TOKEN_FILE: is required/,
    });
    assert.throws(
      () =>
        loadConfig({ PROVENANT_FULCIO_URL: 'http://127.0.0.1:1', PROVENANT_OIDC_TOKEN_FILE: 't' }),
      { code: 'CONFIG_INVALID', message: /PROVENANT_FULCIO_URL: keyless signing needs/ },
    );
    assert.throws(() => loadConfig({ PROVENANT_FULCIO_URL: 'ftp://x' }), /must be an http/);
  });

  it('issues with a Fulcio certificate, records its identity, and verifies by identity and issuer', async () => {
    f = await fixture();
    await passRelease(f.domain);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${identityToken()}\n`);
    const config = loadConfig({
      PROVENANT_DATA_DIR: dir,
      PROVENANT_FULCIO_URL: fulcio.url,
      PROVENANT_REKOR_URL: rekor.url,
      PROVENANT_TSA_URL: tsa.url,
      PROVENANT_OIDC_TOKEN_FILE: tokenFile,
    });
    // The mock Rekor rewrites a 'dsse' proposal into its stored form; 'intoto' verifies.
    const { signing, generated } = loadSigning(config, { rekorEntryType: 'intoto' });
    assert.equal(generated, undefined);
    const attestations = createAttestationService({ eventStore: f.store, signing });
    const issued = await attestations.issueAttestation(UNIT, { kind: 'vsa', stageId: 'release' });
    assert.equal(issued.keyId, undefined);
    const [recorded] = await attestations.listAttestations(UNIT);
    assert.deepEqual(recorded?.signer, { kind: 'keyless', identity: IDENTITY });

    const report = await attestations.verify({
      bundle: issued.bundle,
      policy: { certificateIdentity: IDENTITY, certificateIssuer: ISSUER },
      expected: { kind: 'vsa', unit: UNIT, stageId: 'release' },
      trustedRoot,
    });
    assert.equal(report.result, 'valid', JSON.stringify(report.checks));
    const wrong = await attestations.verify({
      bundle: issued.bundle,
      policy: { certificateIdentity: 'someone@example.com', certificateIssuer: ISSUER },
      trustedRoot,
    });
    assert.deepEqual(
      wrong.checks.filter((c) => !c.ok).map((c) => c.code),
      ['VERIFY_IDENTITY_MISMATCH'],
    );
  });
});
