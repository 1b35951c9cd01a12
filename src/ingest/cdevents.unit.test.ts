import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { cdeventToReceipt, MAPPED_CDEVENT_TYPES } from './cdevents.js';
import { parseCloudEventsRequest } from './cloudEvents.js';
import type { CloudEventJson } from './cloudEventSchema.js';
import { toIngestCommand } from './classify.js';
import { codeOf } from '../../test/support/errors.js';

const fixture = (spec: string, name: string): Buffer =>
  readFileSync(new URL(`../../test/fixtures/cdevents/v${spec}/${name}.json`, import.meta.url));
// Fixtures go through the whole intake: structured request, schema, SDK, mapping.
const load = (spec: string, name: string): CloudEventJson => {
  const [item] = parseCloudEventsRequest({
    headers: { 'content-type': 'application/cloudevents+json' },
    body: fixture(spec, name),
  }).items;
  assert.ok(item?.ok);
  return item.event;
};
const OPENSSL = 'openssl/3.2.1/2.el9/x86_64/rpm';
const CURL = 'curl/7.88.1/10/amd64/deb';

const expectations: Record<
  string,
  { unit: string; action: string; multipass: boolean; artifacts: number }
> = {
  build_finished: { unit: OPENSSL, action: 'build', multipass: true, artifacts: 1 },
  testsuiterun_finished: {
    unit: OPENSSL,
    action: 'integration-test',
    multipass: false,
    artifacts: 0,
  },
  testcaserun_finished: { unit: OPENSSL, action: 'unit-test', multipass: true, artifacts: 0 },
  artifact_packaged: { unit: OPENSSL, action: 'package', multipass: true, artifacts: 1 },
  artifact_published: { unit: CURL, action: 'publish', multipass: true, artifacts: 1 },
  artifact_signed: {
    unit: 'myapp/1.4.0/1/linux-amd64/oci',
    action: 'sign',
    multipass: true,
    artifacts: 1,
  },
  pipelinerun_finished: { unit: CURL, action: 'release', multipass: true, artifacts: 0 },
  taskrun_finished: { unit: CURL, action: 'sast', multipass: false, artifacts: 0 },
};

describe('CDEvents mapping', () => {
  it('maps the v0.4 (x.2.0) and v0.5 (x.3.0) versions of eight event types', () => {
    assert.equal(MAPPED_CDEVENT_TYPES.length, 16);
    assert.ok(MAPPED_CDEVENT_TYPES.includes('dev.cdevents.build.finished.0.2.0'));
    assert.ok(MAPPED_CDEVENT_TYPES.includes('dev.cdevents.taskrun.finished.0.3.0'));
  });

  for (const spec of ['0.4', '0.5']) {
    for (const [name, expected] of Object.entries(expectations)) {
      it(`v${spec} ${name} → receipt for ${expected.action}`, () => {
        const event = load(spec, name);
        const receipt = cdeventToReceipt(event);
        assert.equal(receipt.unit, expected.unit);
        assert.equal(receipt.action, expected.action);
        assert.equal(receipt.multipass, expected.multipass);
        assert.equal(receipt.artifacts?.length ?? 0, expected.artifacts);
        assert.equal(receipt.producer, event.source);
        assert.equal(receipt.correlationId, `chain-${spec}`);
        assert.equal(receipt.finishedAt, '2024-05-01T12:00:00Z');
        assert.deepEqual(receipt.origin, {
          source: event.source,
          id: event.id,
          type: event.type,
          time: event.time,
        });
        assert.equal((receipt.results?.['cdevent'] as { type: string }).type, event.type);
        // Classified as a receipt, not a pipeline event.
        assert.equal(toIngestCommand(event).kind, 'receipt');
      });
    }
  }

  it('derives the artifact digest from the purl checksum qualifier', () => {
    const receipt = cdeventToReceipt(load('0.5', 'build_finished'));
    const [artifact] = receipt.artifacts ?? [];
    assert.equal(artifact?.name, 'openssl');
    assert.match(artifact?.uri ?? '', /^pkg:rpm\/redhat\/openssl@3\.2\.1-2\.el9\?/);
    assert.match(artifact?.digest['sha256'] ?? '', /^[a-f0-9]{64}$/);
  });

  it('keeps customData.provenant results next to the CDEvent summary', () => {
    const receipt = cdeventToReceipt(load('0.4', 'testsuiterun_finished'));
    assert.equal(receipt.results?.['tests'], 40);
    assert.deepEqual((receipt.results?.['cdevent'] as Record<string, unknown>)['testSuite'], {
      id: 'itest',
      name: 'Integration suite',
      version: '1.0',
    });
  });

  type CDEventData = Record<string, unknown> & {
    context: Record<string, unknown>;
    subject: Record<string, unknown> & { content: Record<string, unknown> };
    customData: { provenant: Record<string, unknown> };
  };
  const mutate = (
    spec: string,
    name: string,
    change: (data: CDEventData, event: Record<string, unknown>) => void,
  ): CloudEventJson => {
    const event = JSON.parse(fixture(spec, name).toString()) as Record<string, unknown>;
    change(event['data'] as CDEventData, event);
    return event as unknown as CloudEventJson;
  };

  it('rejects a CDEvent with no unit anywhere with INGEST_CDEVENT_NO_UNIT', () => {
    const event = mutate('0.5', 'taskrun_finished', (_data, ce) => delete ce['provenantunit']);
    assert.equal(
      codeOf(() => cdeventToReceipt(event)),
      'INGEST_CDEVENT_NO_UNIT',
    );
    // Issue 18: an OCI artifact purl names a unit of its own (it used to be refused).
    const oci = mutate('0.4', 'artifact_signed', (_data, ce) => delete ce['subject']);
    assert.equal(
      cdeventToReceipt(oci).unit,
      'pkg:oci/myapp@sha256:ccd9ca2e5c433788fdce2bedbb903fdb4580a9818c1f9ff42ea46cb7c6791f68?repository_url=registry.example.com%2Fmyapp',
    );
    const noVersion = mutate('0.4', 'artifact_signed', (data, ce) => {
      delete ce['subject'];
      data.subject['id'] = 'pkg:oci/myapp?repository_url=registry.example.com/myapp';
    });
    assert.equal(
      codeOf(() => cdeventToReceipt(noVersion)),
      'INGEST_CDEVENT_NO_UNIT',
    );
  });

  it('rejects malformed CDEvents with INGEST_CDEVENT_INVALID', () => {
    const noSubject = mutate(
      '0.4',
      'build_finished',
      (data) => delete (data as Record<string, unknown>)['subject'],
    );
    const wrongType = mutate(
      '0.4',
      'build_finished',
      (data) => (data.context['type'] = 'dev.cdevents.build.finished.0.3.0'),
    );
    const wrongSpec = mutate('0.5', 'build_finished', (data) => {
      delete data.context['specversion'];
      data.context['version'] = '0.4.1';
    });
    const badOutcome = mutate(
      '0.5',
      'taskrun_finished',
      (data) => (data.subject.content['outcome'] = 'meh'),
    );
    const badArtifact = mutate(
      '0.4',
      'pipelinerun_finished',
      (data) => (data.customData.provenant['artifacts'] = [{ digest: { sha256: 'nothex' } }]),
    );
    const notJson = mutate('0.4', 'build_finished', (_data, ce) => {
      ce['datacontenttype'] = 'text/plain';
      ce['data'] = 'build ok';
    });
    // RFC 3339's offset is ±hh:mm: the time becomes the receipt's finishedAt, which provenance needs to read.
    const badTimestamp = mutate(
      '0.4',
      'build_finished',
      (data) => (data.context['timestamp'] = '2024-05-01T12:00:00+0200'),
    );
    for (const event of [
      noSubject,
      wrongType,
      wrongSpec,
      badOutcome,
      badArtifact,
      notJson,
      badTimestamp,
    ])
      assert.equal(
        codeOf(() => cdeventToReceipt(event)),
        'INGEST_CDEVENT_INVALID',
      );
  });

  it('does not pass a build that reports no artifact, or a run with errors', () => {
    const noArtifact = mutate('0.4', 'build_finished', (data, ce) => {
      data.subject.content = {};
      ce['subject'] = OPENSSL;
    });
    assert.equal(cdeventToReceipt(noArtifact).multipass, false);
    const errored = mutate(
      '0.5',
      'pipelinerun_finished',
      (data) => (data.subject.content['errors'] = 'timeout'),
    );
    assert.equal(cdeventToReceipt(errored).multipass, false);
    const noOutcome = mutate(
      '0.5',
      'pipelinerun_finished',
      (data) => delete data.subject.content['outcome'],
    );
    assert.equal(cdeventToReceipt(noOutcome).multipass, false);
  });

  it('stores other CDEvent types and versions as pipeline events', () => {
    const started = mutate('0.4', 'build_finished', (data, ce) => {
      ce['type'] = data.context['type'] = 'dev.cdevents.build.started.0.2.0';
    });
    assert.equal(toIngestCommand(started).kind, 'pipeline-event');
    const v03 = mutate('0.4', 'build_finished', (data, ce) => {
      ce['type'] = data.context['type'] = 'dev.cdevents.build.finished.0.1.1';
    });
    assert.equal(toIngestCommand(v03).kind, 'pipeline-event');
  });
});
