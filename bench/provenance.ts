// `npm run bench -- provenance`: the cost of attesting (issue 14 point 10).
//
//   buildSignMs      SLSA provenance built from a unit's 1,000-receipt chain,
//                    serialized (RFC 8785) and signed into a Sigstore bundle, ms
//                    (best of 5; informative, no target)
//   signRatio        signDsse with a LocalKeySigner (PAE, ECDSA P-256, bundle
//                    assembly) ÷ raw crypto.sign('sha256', the same PAE bytes),
//                    as rates; target >= 0.4
//   verifyRatio      verifyBundle (key parsed once) ÷ raw crypto.verify of the
//                    same signature over the same PAE bytes; target >= 0.8
//
// Both ratios compare operations per second measured in the same run, CPU time,
// the library and the raw call alternating in slices of 50 operations, best of
// 5 rounds, so that other load on the machine weighs on both sides alike.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { ReceiptRecordedData } from '../src/domain/index.js';
import {
  STATEMENT_PAYLOAD_TYPE,
  buildProvenance,
  buildVsa,
  serializeStatement,
  type ChainReceipt,
} from '../src/provenance/index.js';
import {
  LocalKeySigner,
  generateSigningKeyPair,
  signDsse,
} from '../src/provenance/signing/index.js';
import { verifyBundle } from '../src/provenance/verify/index.js';
import { fmtRatio, printTable, scaled, type BenchContext } from './support.js';

const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
const ROUNDS = 5;
const hex = (i: number, seed: string): string =>
  Buffer.from(`${seed}${i}`.padEnd(32, '.').slice(0, 32)).toString('hex');

/** A receipt chain of `n` receipts (builds with artifacts, tests, scans). */
function chainOf(n: number): ChainReceipt[] {
  const actions = ['build', 'unit-test', 'sast', 'sca', 'integration-test'];
  return Array.from({ length: n }, (_, i) => {
    const action = actions[i % actions.length] ?? 'build';
    const data: ReceiptRecordedData = {
      receiptId: `01J${String(i + 1).padStart(23, '0')}`,
      unit: UNIT,
      action,
      multipass: i % 11 !== 0,
      producer: 'https://ci.example.com/pipelines/openssl',
      correlationId: `run-${Math.floor(i / 5)}`,
      finishedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      results: { passed: 100 + (i % 7), failed: i % 11 === 0 ? 1 : 0 },
      ...(action === 'build'
        ? {
            artifacts: [
              {
                name: `openssl-3.2.1-${i}.rpm`,
                uri: `https://repo.example.com/openssl-3.2.1-${i}.rpm`,
                digest: { sha256: hex(i, 'rpm') },
              },
            ],
          }
        : {}),
    };
    return {
      eventId: `01K${String(i + 1).padStart(23, '0')}`,
      position: String(i + 10),
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      data,
    };
  });
}

/** DSSE v1 pre-authentication encoding: what is actually signed. */
const pae = (type: string, payload: Buffer): Buffer =>
  Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `),
    payload,
  ]);

/** CPU microseconds of `fn` run `n` times (awaited only when it returns a promise). */
async function cpuMicros(n: number, fn: () => unknown): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const value = fn();
    if (value instanceof Promise) await value;
  }
  const { user, system } = process.cpuUsage(start);
  return user + system;
}

const SLICE = 50;

/**
 * Rates (operations per CPU second) of `fn` and of its raw baseline: `n`
 * operations each per round, the two alternating in slices of SLICE so that
 * both see the same machine (other load, frequency changes); best of ROUNDS.
 */
async function rates(
  n: number,
  fn: () => unknown,
  raw: () => unknown,
): Promise<{ rate: number; rawRate: number }> {
  let rate = 0;
  let rawRate = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let micros = 0;
    let rawMicros = 0;
    for (let done = 0; done < n; done += SLICE) {
      const k = Math.min(SLICE, n - done);
      micros += await cpuMicros(k, fn);
      rawMicros += await cpuMicros(k, raw);
    }
    rate = Math.max(rate, n / (micros / 1e6));
    rawRate = Math.max(rawRate, n / (rawMicros / 1e6));
  }
  return { rate, rawRate };
}

export async function benchProvenance(ctx: BenchContext): Promise<Record<string, number>> {
  const pair = generateSigningKeyPair();
  const signer = LocalKeySigner.fromPem(pair.privateKeyPem);
  const privateKey: KeyObject = createPrivateKey(pair.privateKeyPem);
  const publicKey: KeyObject = createPublicKey(pair.publicKeyPem);

  // 1. Provenance for a 1,000-receipt unit: build + serialize + sign.
  const receipts = scaled(ctx, 1000, 10);
  const chain = { unit: UNIT, receipts: chainOf(receipts) };
  let buildSignMs = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    const statement = buildProvenance(chain, { builderId: 'https://provenant.dev/builders/bench' });
    await signDsse(Buffer.from(serializeStatement(statement)), STATEMENT_PAYLOAD_TYPE, signer);
    buildSignMs = Math.min(buildSignMs, Number(process.hrtime.bigint() - start) / 1e6);
  }

  // 2. and 3. A VSA-sized payload signed and verified, against raw crypto.
  const vsa = buildVsa({
    unit: UNIT,
    stageId: 'release',
    stageVersion: 1,
    passed: true,
    gates: [{ gateId: 'security', gateVersion: 1, definitionDigest: hex(1, 'gate') }],
    stageDefinitionDigest: hex(1, 'stage'),
    receipts: [{ receiptId: '01J00000000000000000000001', digest: hex(1, 'receipt') }],
    timeVerified: '2026-01-01T00:00:00Z',
    verifierId: 'https://provenant.dev/verifiers/bench',
    subjects: [{ name: 'openssl.rpm', digest: { sha256: hex(1, 'rpm') } }],
  });
  const payload = Buffer.from(serializeStatement(vsa));
  const bytes = pae(STATEMENT_PAYLOAD_TYPE, payload);
  const n = scaled(ctx, 2000, 20);
  const { rate: signPerSec, rawRate: rawSignPerSec } = await rates(
    n,
    () => signDsse(payload, STATEMENT_PAYLOAD_TYPE, signer),
    () => sign('sha256', bytes, privateKey),
  );
  const bundle = await signDsse(payload, STATEMENT_PAYLOAD_TYPE, signer);
  const signature = sign('sha256', bytes, privateKey);
  const { rate: verifyPerSec, rawRate: rawVerifyPerSec } = await rates(
    n,
    () => verifyBundle(bundle, { publicKey }),
    () => verify('sha256', bytes, publicKey, signature),
  );

  const figures = {
    receipts,
    buildSignMs,
    signPerSec,
    rawSignPerSec,
    signRatio: signPerSec / rawSignPerSec,
    verifyPerSec,
    rawVerifyPerSec,
    verifyRatio: verifyPerSec / rawVerifyPerSec,
  };
  printTable(
    ctx,
    `provenance (CPU time, best of ${ROUNDS} rounds; ${payload.length} B VSA payload)`,
    [
      [`buildSignMs (${receipts} receipts)`, `${buildSignMs.toFixed(1)} ms`],
      ['signDsse', `${Math.round(signPerSec).toLocaleString('en-US')} /s`],
      ['raw crypto.sign', `${Math.round(rawSignPerSec).toLocaleString('en-US')} /s`],
      ['signRatio', fmtRatio(figures.signRatio, 0.4)],
      ['verifyBundle', `${Math.round(verifyPerSec).toLocaleString('en-US')} /s`],
      ['raw crypto.verify', `${Math.round(rawVerifyPerSec).toLocaleString('en-US')} /s`],
      ['verifyRatio', fmtRatio(figures.verifyRatio, 0.8)],
    ],
  );
  return figures;
}
