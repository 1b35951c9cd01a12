// The CDEvents mapping table (issue 18) on the spec's own conformance examples,
// v0.4.1 and v0.5.1, through the whole intake (structured request, schemas, SDK,
// classification): OCI and Go purls become units of their own, runs that name no
// artifact join their chain; npm, Maven, RPM and generic purls as the artifact
// give the units the table says; malformed purls are refused with their own codes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ingestRequest, type IngestCommand } from '../../src/ingest/index.js';
import { codeOf } from '../support/errors.js';
import {
  asCloudEvent,
  CHAIN_ID,
  conformance,
  GOLANG_UNIT,
  OCI_UNIT,
  TAGS,
  type CDEventDoc,
} from './support.js';

const classify = (event: Record<string, unknown>): IngestCommand => {
  const { results } = ingestRequest({
    headers: { 'content-type': 'application/cloudevents+json' },
    body: Buffer.from(JSON.stringify(event)),
  });
  const [only] = results;
  assert.ok(only?.ok, JSON.stringify(only));
  return only.command;
};

type Row =
  { unit: string; action: string; multipass: boolean; artifacts: number } | { chain: string };

const TABLE: Record<string, Row> = {
  build_finished: { unit: OCI_UNIT, action: 'build', multipass: true, artifacts: 1 },
  artifact_packaged: { unit: GOLANG_UNIT, action: 'package', multipass: true, artifacts: 0 },
  artifact_published: { unit: GOLANG_UNIT, action: 'publish', multipass: true, artifacts: 0 },
  artifact_signed: { unit: GOLANG_UNIT, action: 'sign', multipass: true, artifacts: 0 },
  testsuiterun_finished: { chain: CHAIN_ID },
  testcaserun_finished: { chain: CHAIN_ID },
  pipelinerun_finished: { chain: CHAIN_ID },
  taskrun_finished: { chain: CHAIN_ID },
};

const HEX = 'ab'.repeat(32);
const withArtifact = (doc: CDEventDoc, purl: string): CDEventDoc => ({
  ...doc,
  subject: { ...doc.subject, id: purl },
});

describe('CDEvents mapping table (conformance examples)', () => {
  for (const tag of TAGS)
    for (const [name, row] of Object.entries(TABLE))
      it(`${tag} ${name} → ${'chain' in row ? 'waits for its chain' : `${row.action} for ${row.unit}`}`, () => {
        const command = classify(asCloudEvent(conformance(tag, name)));
        if ('chain' in row) {
          assert.equal(command.kind, 'chained-cdevent');
          assert.equal(command.kind === 'chained-cdevent' && command.chainId, row.chain);
          return;
        }
        assert.equal(command.kind, 'receipt');
        if (command.kind !== 'receipt') return;
        assert.equal(command.input.unit, row.unit);
        assert.equal(command.input.action, row.action);
        assert.equal(command.input.multipass, row.multipass);
        assert.equal(command.input.artifacts?.length ?? 0, row.artifacts);
        assert.equal(command.input.correlationId, CHAIN_ID);
      });

  it('v0.5.1 events without a chainId take the chain of their links', () => {
    const doc = conformance('v0.5.1', 'taskrun_finished');
    const event = asCloudEvent(doc, { chainId: null });
    const data = event['data'] as { context: { links: Record<string, unknown>[] } };
    data.context.links = data.context.links.map((link) => ({ ...link, chainId: 'linked-chain' }));
    const command = classify(event);
    assert.equal(command.kind === 'chained-cdevent' && command.chainId, 'linked-chain');
  });

  it('a CloudEvent subject that is a purl names the unit; one without a version does not', () => {
    const named = asCloudEvent(conformance('v0.5.1', 'taskrun_finished'));
    named['subject'] = 'pkg:npm/left-pad@1.3.0';
    const command = classify(named);
    assert.equal(command.kind === 'receipt' && command.input.unit, 'pkg:npm/left-pad@1.3.0');
    const unversioned = asCloudEvent(conformance('v0.5.1', 'taskrun_finished'));
    unversioned['subject'] = 'pkg:npm/left-pad';
    assert.equal(classify(unversioned).kind, 'chained-cdevent');
  });

  it('a run with no artifact and no chain is still refused with INGEST_CDEVENT_NO_UNIT', () => {
    const event = asCloudEvent(conformance('v0.4.1', 'taskrun_finished'), { chainId: null });
    assert.equal(
      codeOf(() => classify(event)),
      'INGEST_CDEVENT_NO_UNIT',
    );
  });

  const purls: [string, string, string][] = [
    ['npm', 'pkg:npm/%40angular/core@16.2.0', 'pkg:npm/%40angular/core@16.2.0'],
    [
      'Maven',
      'pkg:maven/org.apache.commons/commons-lang3@3.12.0?type=jar',
      'pkg:maven/org.apache.commons/commons-lang3@3.12.0?type=jar',
    ],
    [
      'RPM (NVRPP short form)',
      'pkg:rpm/fedora/openssl@3.2.1-2.el9?arch=x86_64',
      'openssl/3.2.1/2.el9/x86_64/rpm',
    ],
    [
      'generic (checksum is not identity)',
      `pkg:generic/openssl@3.0.4?download_url=https://openssl.org/source/openssl-3.0.4.tar.gz&checksum=sha256:${HEX}`,
      'pkg:generic/openssl@3.0.4?download_url=https%3A%2F%2Fopenssl.org%2Fsource%2Fopenssl-3.0.4.tar.gz',
    ],
    [
      'OCI (the tag is an alias)',
      `pkg:oci/debian@sha256%3A${HEX}?repository_url=docker.io/library/debian&tag=bookworm`,
      `pkg:oci/debian@sha256:${HEX}?repository_url=docker.io%2Flibrary%2Fdebian`,
    ],
  ];
  for (const tag of TAGS)
    for (const [label, purl, unit] of purls)
      it(`${tag} artifact.published of a ${label} purl → unit ${unit}`, () => {
        const doc = withArtifact(conformance(tag, 'artifact_published'), purl);
        const command = classify(asCloudEvent(doc));
        assert.equal(command.kind === 'receipt' && command.input.unit, unit);
      });

  it('refuses malformed artifact purls with their own codes', () => {
    const cases: [string, string][] = [
      ['pkg:/myapp@1.0', 'DOMAIN_INVALID_PURL'],
      ['pkg:npm/@1.0', 'DOMAIN_INVALID_PURL'],
      ['pkg:npm/left-pad@%zz', 'DOMAIN_INVALID_PURL'],
      ['pkg:npm/left-pad@1.3.0?arch', 'DOMAIN_INVALID_PURL'],
      [`pkg:npm/${'a'.repeat(1100)}@1`, 'DOMAIN_PURL_TOO_LONG'],
      ['pkg:oci/myapp@v1.4.0', 'DOMAIN_INVALID_OCI_DIGEST'],
      ['pkg:oci/myapp@sha256%3Ashort', 'DOMAIN_INVALID_OCI_DIGEST'],
    ];
    for (const [purl, code] of cases) {
      const doc = withArtifact(conformance('v0.5.1', 'artifact_signed'), purl);
      assert.equal(
        codeOf(() => classify(asCloudEvent(doc))),
        code,
        purl,
      );
    }
  });
});
