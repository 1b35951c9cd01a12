import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { junitToReceiptInput, parseJUnitXml } from './junit.js';
import { DEFAULT_INGEST_LIMITS } from './limits.js';
import { codeOf } from '../../test/support/errors.js';

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../../test/fixtures/junit/${name}.xml`, import.meta.url));
const receipt = (name: string) =>
  junitToReceiptInput(parseJUnitXml(fixture(name)), {
    unit: 'openssl/3.2.1/2.el9/x86_64/rpm',
    action: 'unit-test',
  });

describe('parseJUnitXml', () => {
  it('counts a passing <testsuites> report, with skipped tests', () => {
    const summary = parseJUnitXml(fixture('passing'));
    assert.equal(summary.tests, 3);
    assert.equal(summary.failures, 0);
    assert.equal(summary.errors, 0);
    assert.equal(summary.skipped, 1);
    assert.equal(summary.time, 1.25);
    assert.equal(summary.suites, 2);
    assert.deepEqual(summary.failing, []);
    assert.equal(summary.sha256, createHash('sha256').update(fixture('passing')).digest('hex'));
    assert.equal(receipt('passing').multipass, true);
  });

  it('names the failing tests of a single <testsuite>', () => {
    const summary = parseJUnitXml(fixture('failing'));
    assert.deepEqual(
      [summary.tests, summary.failures, summary.errors, summary.skipped, summary.time],
      [4, 2, 0, 0, 2.5],
    );
    assert.deepEqual(summary.failing, [
      {
        name: 'rejects trailing commas',
        classname: 'parser.Json',
        kind: 'failure',
        message: 'expected error',
        type: 'AssertionError',
      },
      {
        name: 'handles <deep> nesting',
        classname: 'parser.Json',
        kind: 'failure',
        message: 'stack overflow',
      },
    ]);
    assert.equal(receipt('failing').multipass, false);
  });

  it('does not pass a report with errors', () => {
    const summary = parseJUnitXml(fixture('erroring'));
    assert.equal(summary.errors, 1);
    assert.equal(summary.failures, 0);
    assert.deepEqual(summary.failing, [
      {
        name: 'applies all',
        classname: 'db.Migrations',
        kind: 'error',
        message: 'connection refused',
        type: 'ECONNREFUSED',
      },
    ]);
    const input = receipt('erroring');
    assert.equal(input.multipass, false);
    assert.equal(input.action, 'unit-test');
    const junit = input.results?.['junit'] as Record<string, unknown>;
    assert.equal(junit['errors'], 1);
    assert.deepEqual(junit['report'], { sha256: summary.sha256 });
  });

  it('falls back to suite attributes when there are no test cases', () => {
    const summary = parseJUnitXml(fixture('attributes-only'));
    assert.deepEqual(
      [summary.tests, summary.failures, summary.errors, summary.skipped, summary.time],
      [15, 1, 0, 2, 12.5],
    );
  });

  it('bounds the list of failing tests', () => {
    const cases = Array.from(
      { length: 150 },
      (_, i) => `<testcase name="t${i}"><failure/></testcase>`,
    ).join('');
    const summary = parseJUnitXml(`<testsuite name="s">${cases}</testsuite>`);
    assert.equal(summary.failures, 150);
    assert.equal(summary.failing.length, DEFAULT_INGEST_LIMITS.maxFailingTests);
    assert.equal(summary.failingTruncated, true);
  });

  it('rejects malformed XML with INGEST_JUNIT_MALFORMED', () => {
    assert.equal(
      codeOf(() => parseJUnitXml(fixture('malformed'))),
      'INGEST_JUNIT_MALFORMED',
    );
    assert.equal(
      codeOf(() => parseJUnitXml('not xml at all')),
      'INGEST_JUNIT_MALFORMED',
    );
    assert.equal(
      codeOf(() => parseJUnitXml('<html><body/></html>')),
      'INGEST_JUNIT_MALFORMED',
    );
  });

  it('rejects a DTD or entity declaration before parsing', () => {
    assert.equal(
      codeOf(() => parseJUnitXml(fixture('doctype'))),
      'INGEST_JUNIT_DTD_FORBIDDEN',
    );
    assert.equal(
      codeOf(() =>
        parseJUnitXml('<?xml version="1.0"?><!doctype x SYSTEM "file:///etc/passwd"><testsuite/>'),
      ),
      'INGEST_JUNIT_DTD_FORBIDDEN',
    );
  });

  it('rejects an oversized report and invalid UTF-8', () => {
    assert.equal(
      codeOf(() => parseJUnitXml(fixture('passing'), { maxJUnitBytes: 100, maxFailingTests: 10 })),
      'INGEST_JUNIT_TOO_LARGE',
    );
    assert.equal(
      codeOf(() => parseJUnitXml(Buffer.from([0x3c, 0xff, 0x3e]))),
      'INGEST_BAD_ENCODING',
    );
  });
});
