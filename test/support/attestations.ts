// Fixtures of the attestation tests: a store with a gate and a stage, a unit that
// passes them on receipts, and a signing key.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  createAttestationService,
  type AttestationService,
  type AttestationSigning,
  type IssuedAttestation,
} from '../../src/application/attestations/index.js';
import { createDomainService, type DomainService } from '../../src/application/index.js';
import { EventTypes } from '../../src/domain/events.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import {
  generateSigningKeyPair,
  LocalKeySigner,
  type GeneratedKeyPair,
} from '../../src/provenance/signing/index.js';
import { anonymousAuth, type Authenticator } from '../../src/security/index.js';
import { projections } from '../../projections/index.js';
import {
  createProjectionRunner,
  type ProjectionRunner,
  type ReadModelStore,
} from '../../src/readModels/index.js';

export const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
export const ENCODED_UNIT = encodeURIComponent(UNIT);
export const ARTIFACT = Buffer.from('openssl-3.2.1-2.el9.x86_64.rpm contents\n');
export const ARTIFACT_SHA256 = createHash('sha256').update(ARTIFACT).digest('hex');

export function signingOf(pair: GeneratedKeyPair): AttestationSigning {
  const signer = LocalKeySigner.fromPem(pair.privateKeyPem);
  return {
    signer,
    identity: { kind: 'key', keyId: signer.keyId },
    publicKeyPem: signer.publicKeyPem,
  };
}

export interface Fixture {
  store: SQLiteEventStore;
  domain: DomainService;
  attestations: AttestationService;
  pair: GeneratedKeyPair;
}

/** An in-memory store with gate `build` (build + unit-test) and stage `release`. */
export async function fixture(
  options: { maxEventBytes?: number; path?: string } = {},
): Promise<Fixture> {
  const store = getSQLiteEventStore({ path: options.path ?? ':memory:' });
  const domain = createDomainService({ eventStore: store });
  const pair = generateSigningKeyPair();
  const attestations = createAttestationService({
    eventStore: store,
    signing: signingOf(pair),
    version: '0.0.0-test',
    ...(options.maxEventBytes === undefined ? {} : { maxEventBytes: options.maxEventBytes }),
  });
  await domain.defineGate('build', { requiredActions: ['build', 'unit-test'] });
  await domain.defineStage('release', { gates: ['build'] });
  return { store, domain, attestations, pair };
}

/** The app over a fixture's store, domain and attestations; closing it closes the store. */
export function fixtureApp(
  f: Fixture,
  auth: Authenticator = anonymousAuth(),
): Promise<FastifyInstance> {
  return buildApp({
    auth,
    store: f.store,
    domain: f.domain,
    attestations: f.attestations,
    storeDescription: 'sqlite :memory:',
    ownsStore: true,
  });
}

/**
 * The fixture's app with read models (the query routes, the attestation index)
 * and the projection runner that keeps them, not started; the app does not
 * close the store.
 */
export async function fixtureQueryApp(
  f: Fixture,
  readModels: ReadModelStore,
): Promise<{ app: FastifyInstance; runner: ProjectionRunner }> {
  const runner = createProjectionRunner({
    eventStore: f.store,
    readModels,
    projections,
    batchWindowMs: 5,
  });
  const app = await buildApp({
    auth: anonymousAuth(),
    store: f.store,
    domain: f.domain,
    attestations: f.attestations,
    storeDescription: 'sqlite :memory:',
    readModels,
    query: { waitMs: 3000, pollMs: 5 },
  });
  return { app, runner };
}

/** The VSA of the unit's (first) StagePassed, as the attestor issues it, with that event's id. */
export async function issueStagePassedVsa(
  f: Fixture,
  unit = UNIT,
): Promise<IssuedAttestation & { stagePassedEventId: string }> {
  const { events } = await f.store.readStream(`unit-${unit}`);
  const passed = events.find((e) => e.type === EventTypes.StagePassed);
  if (passed === undefined) throw new Error(`${unit} has not passed a stage`);
  return { ...(await f.attestations.issueStagePassedVsa(passed)), stagePassedEventId: passed.id };
}

/** Records the build and test receipts that pass stage `release`; returns their ids. */
export async function passRelease(
  domain: DomainService,
  unit = UNIT,
): Promise<{ build: string; test: string }> {
  const build = await domain.recordReceipt({
    unit,
    action: 'build',
    multipass: true,
    artifacts: [{ name: 'openssl.rpm', digest: { sha256: ARTIFACT_SHA256 } }],
  });
  const test = await domain.recordReceipt({
    unit,
    action: 'unit-test',
    multipass: true,
    results: { passed: 12, failed: 0 },
  });
  return { build: build.receiptId, test: test.receiptId };
}
