// Field rules of Statement v1, ResourceDescriptor v1 and the three predicates:
// what parseStatement accepts, and the error code of what it refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isProvenanceError } from './errors.js';
import type { ProvenanceErrorCode } from './errors.js';
import {
  DigestSetSchema,
  ResourceDescriptorSchema,
  isRfc3339,
  isUri,
} from './resourceDescriptor.js';
import { SLSA_PROVENANCE_PREDICATE_TYPE } from './slsaProvenance.js';
import { STATEMENT_TYPE, parseStatement, serializeStatement } from './statement.js';
import { TEST_RESULT_PREDICATE_TYPE } from './testResult.js';
import { SLSA_VSA_PREDICATE_TYPE } from './vsa.js';

const SHA256 = 'a'.repeat(64);
const GIT = '0123456789abcdef0123456789abcdef01234567';

const provenance = (): Record<string, unknown> => ({
  _type: STATEMENT_TYPE,
  subject: [{ name: 'openssl-3.2.1-2.el9.x86_64.rpm', digest: { sha256: SHA256 } }],
  predicateType: SLSA_PROVENANCE_PREDICATE_TYPE,
  predicate: {
    buildDefinition: {
      buildType: 'https://provenant.dev/buildtypes/receipt-chain/v1',
      externalParameters: { unit: 'openssl/3.2.1/2.el9/x86_64/rpm' },
      resolvedDependencies: [
        { uri: 'git+https://git.example.com/openssl.git', digest: { gitCommit: GIT } },
      ],
    },
    runDetails: {
      builder: { id: 'https://ci.example.com/builders/rpm' },
      metadata: {
        invocationId: 'run-1',
        startedOn: '2026-05-01T12:00:00Z',
        finishedOn: '2026-05-01T12:30:00.5+02:00',
      },
      byproducts: [{ name: 'receipt:1', digest: { sha256: SHA256 }, annotations: { a: 1 } }],
    },
  },
});

const vsa = (): Record<string, unknown> => ({
  _type: STATEMENT_TYPE,
  subject: [{ name: 'x', digest: { sha512: 'b'.repeat(128) } }],
  predicateType: SLSA_VSA_PREDICATE_TYPE,
  predicate: {
    verifier: { id: 'https://provenant.example.com/verifier', version: { provenant: '0.1.0' } },
    timeVerified: '2026-05-01T13:00:00Z',
    resourceUri: 'provenant:unit:openssl/3.2.1/2.el9/x86_64/rpm',
    policy: { uri: 'https://provenant.dev/policies/stage/release/v2', digest: { sha256: SHA256 } },
    inputAttestations: [{ uri: 'provenant:receipt:01J', digest: { sha256: SHA256 } }],
    verificationResult: 'PASSED',
    verifiedLevels: ['PROVENANT_STAGE_RELEASE'],
  },
});

const testResult = (): Record<string, unknown> => ({
  _type: STATEMENT_TYPE,
  subject: [{ digest: { sha256: SHA256 } }],
  predicateType: TEST_RESULT_PREDICATE_TYPE,
  predicate: {
    result: 'FAILED',
    configuration: [{ uri: 'https://ci.example.com/junit.xml', digest: { sha256: SHA256 } }],
    url: 'https://ci.example.com/jobs/1',
    failedTests: ['suite.test_a'],
  },
});

/** Asserts that parseStatement throws a ProvenanceError with `code`. */
const refuses = (json: unknown, code: ProvenanceErrorCode): void => {
  assert.throws(
    () => parseStatement(json),
    (error: unknown) => {
      assert.ok(isProvenanceError(error), `not a ProvenanceError: ${String(error)}`);
      assert.equal(error.code, code, error.message);
      return true;
    },
  );
};

/** Deletes a member in `changed`. */
const DELETE = Symbol('delete');

/** A deep copy of `base` with the value at `pointer` (`/a/0/b`) replaced or deleted. */
const changed = (
  base: Record<string, unknown>,
  pointer: string,
  value: unknown,
): Record<string, unknown> => {
  const copy = structuredClone(base);
  const keys = pointer.split('/').slice(1);
  const last = keys.pop() as string;
  let target = copy;
  for (const key of keys) target = target[key] as Record<string, unknown>;
  if (value === DELETE) delete target[last];
  else target[last] = value;
  return copy;
};

describe('parseStatement', () => {
  it('accepts each known predicate type and keeps its fields', () => {
    for (const statement of [provenance(), vsa(), testResult()]) {
      const parsed = parseStatement(statement);
      assert.equal(parsed.predicateType, statement['predicateType']);
      assert.equal(serializeStatement(parsed), serializeStatement(statement as never));
    }
  });

  it('keeps unknown fields (in-toto parsing rules: ignore, do not drop)', () => {
    const parsed = parseStatement(changed(provenance(), '/extra', { x: 1 }));
    assert.deepEqual((parsed as Record<string, unknown>)['extra'], { x: 1 });
  });

  it('refuses what is not a statement', () => {
    refuses(null, 'PROVENANCE_NOT_A_STATEMENT');
    refuses([], 'PROVENANCE_NOT_A_STATEMENT');
    refuses(changed(provenance(), '/_type', DELETE), 'PROVENANCE_NOT_A_STATEMENT');
    refuses(
      changed(provenance(), '/_type', 'https://in-toto.io/Statement/v0.1'),
      'PROVENANCE_NOT_A_STATEMENT',
    );
    refuses(changed(provenance(), '/subject', []), 'PROVENANCE_NOT_A_STATEMENT');
    refuses(
      changed(provenance(), '/subject', [{ name: 'no digest' }]),
      'PROVENANCE_NOT_A_STATEMENT',
    );
    refuses(changed(provenance(), '/predicate', 'text'), 'PROVENANCE_NOT_A_STATEMENT');
    refuses(changed(provenance(), '/predicateType', 'not a uri'), 'PROVENANCE_NOT_A_STATEMENT');
  });

  it('refuses an unknown predicate type', () => {
    refuses(
      changed(provenance(), '/predicateType', 'https://example.com/predicate/v1'),
      'PROVENANCE_UNKNOWN_PREDICATE_TYPE',
    );
    refuses(
      changed(provenance(), '/predicateType', 'https://slsa.dev/provenance/v0.2'),
      'PROVENANCE_UNKNOWN_PREDICATE_TYPE',
    );
  });

  it('refuses malformed digests, in the subject or in the predicate', () => {
    const digest = (value: Record<string, string>) =>
      changed(provenance(), '/subject/0/digest', value);
    refuses(digest({ sha256: 'a'.repeat(63) }), 'PROVENANCE_BAD_DIGEST');
    refuses(digest({ sha256: 'A'.repeat(64) }), 'PROVENANCE_BAD_DIGEST');
    refuses(digest({ sha256: 'g'.repeat(64) }), 'PROVENANCE_BAD_DIGEST');
    refuses(digest({ sha512: 'a'.repeat(64) }), 'PROVENANCE_BAD_DIGEST');
    refuses(digest({ sha1: 'a'.repeat(64) }), 'PROVENANCE_BAD_DIGEST');
    refuses(digest({}), 'PROVENANCE_BAD_DIGEST');
    refuses(
      changed(
        provenance(),
        '/predicate/buildDefinition/resolvedDependencies/0/digest/gitCommit',
        'abc',
      ),
      'PROVENANCE_BAD_DIGEST',
    );
  });

  it('refuses predicates that break their field rules', () => {
    const cases: [Record<string, unknown>, string][] = [
      [changed(provenance(), '/predicate/buildDefinition/buildType', DELETE), 'buildType'],
      [
        changed(provenance(), '/predicate/runDetails/builder/id', 'builder 1'),
        'builder id not a URI',
      ],
      [
        changed(provenance(), '/predicate/runDetails/metadata/startedOn', '2026-05-01 12:00:00'),
        'timestamp without T',
      ],
      [
        changed(provenance(), '/predicate/runDetails/metadata/finishedOn', '2026-02-30T12:00:00Z'),
        'February 30th',
      ],
      [
        changed(provenance(), '/predicate/runDetails/metadata/finishedOn', '2026-05-01T12:00:00'),
        'timestamp without zone',
      ],
      [changed(vsa(), '/predicate/verificationResult', 'OK'), 'VSA result'],
      [changed(vsa(), '/predicate/resourceUri', DELETE), 'VSA resourceUri'],
      [changed(vsa(), '/predicate/verifiedLevels', ['level 3']), 'VSA level'],
      [changed(vsa(), '/predicate/timeVerified', 'yesterday'), 'VSA time'],
      [changed(testResult(), '/predicate/result', 'SKIPPED'), 'test result'],
      [changed(testResult(), '/predicate/configuration', DELETE), 'configuration'],
      [
        changed(testResult(), '/predicate/configuration', [{ name: 'only a name' }]),
        'descriptor without uri, digest or content',
      ],
    ];
    for (const [statement, what] of cases)
      assert.throws(
        () => parseStatement(statement),
        (error: unknown) =>
          isProvenanceError(error) && error.code === 'PROVENANCE_INVALID_PREDICATE',
        what,
      );
  });

  it('says where the problem is', () => {
    try {
      parseStatement(changed(provenance(), '/predicate/runDetails/metadata/startedOn', 'now'));
      assert.fail('accepted');
    } catch (error) {
      assert.ok(isProvenanceError(error));
      assert.match(error.message, /\/predicate\/runDetails\/metadata\/startedOn/);
      assert.deepEqual(error.details?.['issues'], [
        {
          path: '/predicate/runDetails/metadata/startedOn',
          message: 'must be an RFC 3339 date-time with a time zone',
        },
      ]);
    }
  });
});

describe('field types', () => {
  it('checks digest lengths of the known algorithms, and hex for all', () => {
    const ok = (digest: Record<string, string>) => DigestSetSchema.safeParse(digest).success;
    assert.ok(ok({ sha256: SHA256, sha512: 'c'.repeat(128), sha1: GIT }));
    assert.ok(ok({ gitCommit: GIT }));
    assert.ok(ok({ gitCommit: SHA256 }));
    assert.ok(ok({ blake2b: 'abc123' }));
    assert.ok(!ok({ gitCommit: 'a'.repeat(50) }));
    assert.ok(!ok({ blake2b: 'xyz' }));
    assert.ok(!ok({ 'sha 256': SHA256 }));
  });

  it('takes URIs with a scheme per RFC 3986 only', () => {
    for (const uri of [
      'https://example.com/a?b=c#d',
      'pkg:rpm/fedora/openssl@3.2.1',
      'provenant:receipt:01J0',
      'git+https://git.example.com/r.git@refs/heads/main',
      'urn:uuid:0e2a6b3c-3c1f-4b8e-9b3e-1c2d3e4f5a6b',
      'https://example.com/a%20b',
    ])
      assert.ok(isUri(uri), uri);
    for (const uri of ['', 'example.com', '/relative', 'https://x/a b', 'https://x/%zz', '1a:b'])
      assert.ok(!isUri(uri), uri);
  });

  it('takes RFC 3339 timestamps with a zone, in range', () => {
    for (const t of [
      '2026-05-01T12:00:00Z',
      '2026-05-01t12:00:00z',
      '2024-02-29T23:59:60.123456+05:30',
    ])
      assert.ok(isRfc3339(t), t);
    for (const t of [
      '2026-05-01',
      '2026-05-01T12:00Z',
      '2026-13-01T12:00:00Z',
      '2025-02-29T12:00:00Z',
      '2026-05-01T24:00:00Z',
      '2026-05-01T12:00:00+2:00',
    ])
      assert.ok(!isRfc3339(t), t);
  });

  it('needs one of uri, digest or content in a ResourceDescriptor, content in base64', () => {
    const ok = (rd: unknown) => ResourceDescriptorSchema.safeParse(rd).success;
    assert.ok(ok({ uri: 'https://example.com/x' }));
    assert.ok(ok({ content: 'aGVsbG8=' }));
    assert.ok(ok({ digest: { sha256: SHA256 }, mediaType: 'application/json; charset=utf-8' }));
    assert.ok(!ok({ name: 'x' }));
    assert.ok(!ok({ content: 'not base64!' }));
    assert.ok(!ok({ uri: 'https://example.com/x', mediaType: 'json' }));
    assert.ok(!ok({ uri: 'https://example.com/x', downloadLocation: 'here' }));
  });
});
