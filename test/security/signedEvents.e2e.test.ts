// Producer-signed events end to end (issue 15, docs/security.md "Signed events"):
// `provenant sign-event` signs a CloudEvent file; a producer registered in a
// producers file as mustSign gets its signed event stored with the verification
// result and key id in the metadata, in structured, binary and batch mode; every
// kind of tampering is refused with its code and nothing is appended.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { createSignaturePolicy, signEvent, type CloudEventJson } from '../../src/ingest/index.js';
import { loadProducersFile, parseProducers } from '../../src/security/producersFile.js';
import { isProvenantError } from '../../src/errors.js';
import { anonymousAuth } from '../../src/security/index.js';
import { runCliSync } from '../support/cli.js';

const run = (args: string[]) => runCliSync(args);

const SHA = 'ab'.repeat(32);
const EVENT = {
  specversion: '1.0',
  id: 'build-1',
  source: 'https://ci.example.com/pipelines/libfoo',
  type: 'dev.provenant.receipt.v1',
  subject: 'libfoo',
  time: '2026-05-01T12:00:00+02:00',
  datacontenttype: 'application/json',
  pipeline: 'nightly',
  data: {
    unit: 'libfoo/2.0.0/1.el9/x86_64/rpm',
    action: 'build',
    multipass: true,
    artifacts: [{ uri: 'https://repo.example.com/a.rpm', digest: { sha256: SHA } }],
  },
};

describe('signed events', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-signed-'));
  const ci = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = join(dir, 'ci.pem');
  const producersFile = join(dir, 'producers.json');
  let store: SQLiteEventStore;
  let app: FastifyInstance;
  let signed: CloudEventJson;

  before(async () => {
    writeFileSync(keyFile, ci.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'ci.pub.pem'), ci.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(
      producersFile,
      JSON.stringify({
        producers: [
          {
            id: 'ci',
            sources: ['https://ci.example.com/**'],
            mustSign: true,
            keys: [{ keyId: 'ci-2026', publicKeyFile: 'ci.pub.pem' }],
          },
        ],
      }),
    );
    store = getSQLiteEventStore({ path: join(dir, 'log.db') });
    app = await buildApp({
      auth: anonymousAuth(),
      store,
      storeDescription: 'test',
      ownsStore: true,
      signaturePolicy: createSignaturePolicy(loadProducersFile(producersFile)),
    });
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('provenant sign-event has --help and signs a file with the named extensions', () => {
    const help = run(['sign-event', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /verifiability/);
    assert.match(help.stdout, /--key-id/);
    const eventFile = join(dir, 'event.json');
    writeFileSync(eventFile, JSON.stringify(EVENT));
    const out = join(dir, 'signed.json');
    const result = run([
      'sign-event',
      eventFile,
      '--key',
      keyFile,
      '--key-id',
      'ci-2026',
      '--sign-extensions',
      'pipeline',
      '--out',
      out,
    ]);
    assert.equal(result.status, 0, result.stderr);
    signed = JSON.parse(readFileSync(out, 'utf8')) as CloudEventJson;
    assert.equal(signed['signedextattrs'], 'pipeline');
    assert.equal(typeof signed['dssematerial'], 'string');
  });

  it('sign-event refuses a bad key or event with its own code', () => {
    const bad = run(['sign-event', producersFile, '--key', keyFile, '--key-id', 'k']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /SIGN_EVENT_INVALID/);
    const noKey = run(['sign-event', producersFile, '--key', producersFile, '--key-id', 'k']);
    assert.equal(noKey.status, 2);
    assert.match(noKey.stderr, /SIGN_EVENT_INVALID: .*not a private key/);
  });

  const structured = (event: unknown): InjectOptions => ({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify(event),
  });

  it('stores a signed event with the verification result and key id in its metadata', async () => {
    const res = await app.inject(structured(signed));
    assert.equal(res.statusCode, 201, res.body);
    const { stream, eventId } = res.json<{ stream: string; eventId: string }>();
    const stored = (await store.readStream(stream)).events.find((e) => e.id === eventId);
    assert.deepEqual(stored?.metadata['signature'], {
      verified: true,
      producer: 'ci',
      keyId: 'ci-2026',
    });
    // Signed again (ECDSA signatures differ each time): a redelivery, not a conflict.
    const again = signEvent(EVENT as CloudEventJson, ci.privateKey, 'ci-2026', ['pipeline']);
    assert.notEqual(again['dssematerial'], signed['dssematerial']);
    const redelivered = await app.inject(structured(again));
    assert.equal(redelivered.statusCode, 200, redelivered.body);
    assert.equal(redelivered.json<{ duplicate: boolean }>().duplicate, true);
  });

  it('verifies binary mode too (attributes in ce- headers, data in the body)', async () => {
    const event = signEvent(
      { ...EVENT, id: 'build-bin' } as CloudEventJson,
      ci.privateKey,
      'ci-2026',
    );
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [name, value] of Object.entries(event))
      if (name !== 'data' && name !== 'datacontenttype')
        headers[`ce-${name}`] = typeof value === 'string' ? value : JSON.stringify(value);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers,
      payload: JSON.stringify(event.data, null, 2),
    });
    assert.equal(res.statusCode, 201, res.body);
  });

  describe('refuses every kind of tampering, appending nothing', () => {
    const refused = async (event: unknown, code: string) => {
      const head = await store.headPosition();
      const res = await app.inject(structured(event));
      assert.equal(res.json<{ code: string }>().code, code, res.body);
      assert.equal(await store.headPosition(), head);
    };
    const next = (() => {
      let n = 0;
      return () => `t-${++n}`;
    })();
    // Each tampered event gets a fresh id (re-signed where the id must not be the tampering).
    const fresh = (extra: Record<string, unknown> = {}) =>
      signEvent({ ...EVENT, id: next(), ...extra } as CloudEventJson, ci.privateKey, 'ci-2026', [
        'pipeline',
      ]);

    it('unsigned', () => refused({ ...EVENT, id: next() }, 'INGEST_SIGNATURE_REQUIRED'));
    it('data changed', () => {
      const event = fresh();
      return refused(
        { ...event, data: { ...(event.data as object), multipass: false } },
        'INGEST_SIGNATURE_INVALID',
      );
    });
    it('an attribute changed', () =>
      refused({ ...fresh(), subject: 'libbar' }, 'INGEST_SIGNATURE_INVALID'));
    it('a signed extension removed', () => {
      const { pipeline: _removed, ...event } = fresh();
      return refused(event, 'INGEST_SIGNATURE_INVALID');
    });
    it('the signature bytes changed', () => {
      const event = fresh();
      const envelope = JSON.parse(
        Buffer.from(event['dssematerial'] as string, 'base64').toString(),
      ) as { signatures: { keyid: string; sig: string }[] };
      const sig = Buffer.from(envelope.signatures[0]?.sig ?? '', 'base64');
      sig[5] = (sig[5] ?? 0) ^ 0xff;
      envelope.signatures = [{ keyid: 'ci-2026', sig: sig.toString('base64') }];
      return refused(
        { ...event, dssematerial: Buffer.from(JSON.stringify(envelope)).toString('base64') },
        'INGEST_SIGNATURE_INVALID',
      );
    });
    it('signed with the wrong key', () =>
      refused(
        signEvent({ ...EVENT, id: next() } as CloudEventJson, stranger.privateKey, 'ci-2026'),
        'INGEST_SIGNATURE_INVALID',
      ));
    it('signed under an unknown key id', () =>
      refused(
        signEvent({ ...EVENT, id: next() } as CloudEventJson, ci.privateKey, 'ci-2025'),
        'INGEST_SIGNATURE_UNKNOWN_KEY',
      ));
    it('in a batch, only the tampered element is refused', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        payload: JSON.stringify([fresh(), { ...fresh(), subject: 'x' }]),
      });
      const report = res.json<{ results: { ok: boolean; problem?: { code: string } }[] }>();
      assert.deepEqual(
        report.results.map((r) => r.ok || r.problem?.code),
        [true, 'INGEST_SIGNATURE_INVALID'],
      );
    });
  });

  it('refuses an invalid producers file with PRODUCERS_INVALID', () => {
    for (const json of [
      '{',
      '{"producers":[{"id":"a","sources":[],"keys":[]}]}',
      '{"producers":[{"id":"a","sources":["x"],"mustSign":true}]}',
      '{"producers":[{"id":"a","sources":["x"],"keys":[{"keyId":"k","publicKey":"nope"}]}]}',
    ])
      assert.throws(
        () => parseProducers(json, producersFile),
        (e: unknown) => isProvenantError(e) && e.code === 'PRODUCERS_INVALID',
        json,
      );
  });
});
