// SLSA subjects for units named by purl (issue 18): an OCI image unit is named by
// its digest, so with no artifact in its receipts the image itself is the subject;
// the parameters name the purl (NVRPP units keep theirs, see builders.unit.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildProvenance } from './builders.js';
import { ociImageSubject, unitSubjects, type UnitReceiptChain } from './chain.js';

const HEX = 'ab'.repeat(32);
const IMAGE = `pkg:oci/shop-api@sha256:${HEX}?repository_url=registry.example.com%2Fshop%2Fshop-api`;

const chainOf = (unit: string, artifacts?: { name: string; digest: { sha256: string } }[]) =>
  ({
    unit,
    receipts: [
      {
        eventId: 'evt-1',
        position: '1',
        recordedAt: '2026-05-01T10:00:00Z',
        data: {
          receiptId: '01JTBUILD00000000000000000',
          unit,
          action: 'build',
          multipass: true,
          ...(artifacts === undefined ? {} : { artifacts }),
        },
      },
    ],
  }) satisfies UnitReceiptChain;

describe('provenance of purl units', () => {
  it('an OCI image unit is its own subject, by digest', () => {
    assert.deepEqual(unitSubjects(chainOf(IMAGE)), [
      { name: 'shop-api', uri: IMAGE, digest: { sha256: HEX } },
    ]);
    assert.equal(ociImageSubject('pkg:npm/left-pad@1.3.0'), undefined);
    assert.equal(ociImageSubject('openssl/3.2.1/2.el9/x86_64/rpm'), undefined);
  });

  it('artifacts in the receipts stay the subjects when there are any', () => {
    const other = 'cd'.repeat(32);
    assert.deepEqual(unitSubjects(chainOf(IMAGE, [{ name: 'sbom', digest: { sha256: other } }])), [
      { name: 'sbom', digest: { sha256: other } },
    ]);
  });

  it('names the purl in the external parameters, with no NVRPP', () => {
    const statement = buildProvenance(chainOf(IMAGE), {
      builderId: 'https://ci.example.com/builders/oci',
    });
    assert.deepEqual(statement.predicate.buildDefinition.externalParameters, {
      unit: IMAGE,
      purl: IMAGE,
    });
    assert.deepEqual(statement.subject, [
      { name: 'shop-api', uri: IMAGE, digest: { sha256: HEX } },
    ]);
  });
});
