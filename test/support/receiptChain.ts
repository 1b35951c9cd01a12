// A realistic receipt chain for the provenance builders' tests: checkout, build
// with two artifacts, a failing unit-test run that was revoked, its passing
// re-run, a SAST scan; and the check that a builder refuses with a given code.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ReceiptRecordedData } from '../../src/domain/events.js';
import type { ChainReceipt } from '../../src/provenance/chain.js';
import type { ProvenanceErrorCode } from '../../src/provenance/errors.js';
import { isProvenanceError } from '../../src/provenance/errors.js';

export const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
export const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
export const COMMIT = '3f786850e387550fdab836ed7e6dc881de23001b';
export const TARBALL = sha('openssl-3.2.1.tar.gz');
export const RPM = sha('openssl-3.2.1-2.el9.x86_64.rpm');
export const DEBUGINFO = sha('openssl-debuginfo-3.2.1-2.el9.x86_64.rpm');
export const JUNIT_1 = sha('junit run 1');
export const JUNIT_2 = sha('junit run 2');
export const SARIF = sha('sarif');
export const RPM_URI = 'https://repo.example.com/el9/x86_64/openssl-3.2.1-2.el9.x86_64.rpm';

export const receipt = (
  position: number,
  data: Omit<ReceiptRecordedData, 'unit'>,
  extra: Partial<ChainReceipt> = {},
): ChainReceipt => ({
  eventId: `evt-${position}`,
  position: String(position),
  recordedAt: `2026-05-01T10:${String(position).padStart(2, '0')}:30Z`,
  data: { unit: UNIT, ...data },
  ...extra,
});

export const checkout = receipt(10, {
  receiptId: '01JTCHECKOUT0000000000000A',
  action: 'checkout',
  multipass: true,
  custom: {
    source: {
      repository: 'https://git.example.com/rpms/openssl.git',
      commit: COMMIT,
      ref: 'refs/tags/openssl-3.2.1-2.el9',
    },
  },
  artifacts: [{ name: 'openssl-3.2.1.tar.gz', digest: { sha256: TARBALL } }],
  correlationId: 'pipeline-42',
  startedAt: '2026-05-01T10:00:00Z',
  finishedAt: '2026-05-01T10:01:00Z',
});
export const build = receipt(20, {
  receiptId: '01JTBUILD00000000000000000',
  action: 'build',
  multipass: true,
  results: { durationSeconds: 1020 },
  artifacts: [
    { name: 'openssl-3.2.1-2.el9.x86_64.rpm', uri: RPM_URI, digest: { sha256: RPM } },
    { uri: 'https://repo.example.com/debug/openssl-debuginfo.rpm', digest: { sha256: DEBUGINFO } },
  ],
  producer: 'https://ci.example.com/pipelines/rpm',
  correlationId: 'pipeline-42',
  startedAt: '2026-05-01T10:02:00Z',
  finishedAt: '2026-05-01T10:19:00Z',
});
export const failedTests = receipt(
  30,
  {
    receiptId: '01JTTEST100000000000000000',
    action: 'unit-test',
    multipass: false,
    results: {
      junit: {
        tests: 120,
        failures: 1,
        errors: 0,
        skipped: 2,
        suites: 3,
        failing: [{ name: 'test_x509_verify', classname: 'crypto.X509Test', kind: 'failure' }],
        failingTruncated: false,
        report: { sha256: JUNIT_1 },
      },
    },
    evidence: [{ uri: 'https://ci.example.com/42/junit-1.xml', digest: { sha256: JUNIT_1 } }],
    artifacts: [{ name: 'stray', digest: { sha256: sha('stray') } }],
    correlationId: 'pipeline-42',
    startedAt: '2026-05-01T09:00:00Z',
    finishedAt: '2026-05-01T12:00:00Z',
  },
  { revoked: { reason: 'runner out of disk', revokedBy: 'alice', eventId: 'evt-50' } },
);
export const passedTests = receipt(40, {
  receiptId: '01JTTEST200000000000000000',
  action: 'unit-test',
  multipass: true,
  results: {
    junit: {
      tests: 120,
      failures: 0,
      errors: 0,
      skipped: 2,
      suites: 3,
      failing: [],
      failingTruncated: false,
      report: { sha256: JUNIT_2 },
    },
  },
  evidence: [
    {
      uri: 'https://ci.example.com/42/junit-2.xml',
      digest: { sha256: JUNIT_2 },
      mediaType: 'application/xml',
    },
  ],
  artifacts: [{ uri: RPM_URI, digest: { sha256: RPM } }],
  correlationId: 'pipeline-42',
  startedAt: '2026-05-01T10:30:00Z',
  finishedAt: '2026-05-01T10:41:00Z',
});
export const sast = receipt(35, {
  receiptId: '01JTSAST000000000000000000',
  action: 'sast',
  multipass: true,
  results: { findings: { high: 0, medium: 2 } },
  evidence: [{ uri: 'https://ci.example.com/42/sast.sarif', digest: { sha256: SARIF } }],
  correlationId: 'pipeline-42',
});

export const chain = (
  receipts: ChainReceipt[] = [checkout, build, failedTests, sast, passedTests],
) => ({
  unit: UNIT,
  receipts,
});
export const options = { builderId: 'https://ci.example.com/builders/rpm' };

export const throwsCode = (
  fn: () => unknown,
  code: ProvenanceErrorCode | 'DOMAIN_INVALID_UNIT_KEY',
) =>
  assert.throws(fn, (error: unknown) => {
    assert.ok(isProvenanceError(error) || (error as { code?: string }).code === code);
    assert.equal((error as { code: string }).code, code, (error as Error).message);
    return true;
  });
