// JUnit / xUnit XML reports (issue 4: `POST /v1/units/{key}/actions/{action}/junit`)
// become receipts: counts of tests, failures, errors and skipped tests, the run
// time, and a bounded list of the failing tests; `multipass` is true only when
// nothing failed or errored. The XML parser is hardened: no DTD, no entities
// (so no entity-expansion or external-entity attack), bounded size, and the
// document must be well-formed. Accepts a `<testsuites>` root or a single
// `<testsuite>`; nested suites are walked.
import { createHash } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ReceiptInput } from '../domain/receiptInput.js';
import { ProvenantError } from '../errors.js';
import { decodeUtf8 } from './jsonGuard.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './limits.js';

/** One failing or erroring test case. */
export interface JUnitFailure {
  readonly name: string;
  readonly classname?: string;
  readonly kind: 'failure' | 'error';
  /** The `message` and `type` attributes of its first `<failure>` or `<error>`, when given. */
  readonly message?: string;
  readonly type?: string;
}

/** What a JUnit report says, in numbers and names. */
export interface JUnitSummary {
  readonly tests: number;
  readonly failures: number;
  readonly errors: number;
  readonly skipped: number;
  /** Total time in seconds, when the report states it. */
  readonly time?: number;
  readonly suites: number;
  /** The first `maxFailingTests` failing or erroring tests, in document order. */
  readonly failing: readonly JUnitFailure[];
  /** True when more tests failed than `failing` lists. */
  readonly failingTruncated: boolean;
  /** SHA-256 (hex) of the report bytes, so the receipt can name the exact report. */
  readonly sha256: string;
}

type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name, _path, _leaf, isAttribute) =>
    !isAttribute && ['testsuite', 'testcase', 'failure', 'error', 'skipped'].includes(name),
});

const MAX_SUITE_DEPTH = 32;
const MAX_NAME_LENGTH = 512;

const malformed = (message: string, cause?: unknown): ProvenantError =>
  new ProvenantError('INGEST_JUNIT_MALFORMED', message, { cause });

/**
 * Parses a JUnit/xUnit XML report. Throws `INGEST_JUNIT_TOO_LARGE`,
 * `INGEST_JUNIT_DTD_FORBIDDEN`, `INGEST_BAD_ENCODING` or `INGEST_JUNIT_MALFORMED`.
 */
export function parseJUnitXml(
  report: Uint8Array | string,
  limits: Pick<IngestLimits, 'maxJUnitBytes' | 'maxFailingTests'> = DEFAULT_INGEST_LIMITS,
): JUnitSummary {
  const bytes = typeof report === 'string' ? Buffer.from(report, 'utf8') : report;
  if (bytes.length > limits.maxJUnitBytes)
    throw new ProvenantError(
      'INGEST_JUNIT_TOO_LARGE',
      `JUnit report is ${bytes.length} bytes; the limit is ${limits.maxJUnitBytes}`,
      { details: { size: bytes.length, limit: limits.maxJUnitBytes } },
    );
  const text = decodeUtf8(bytes);
  if (/<!DOCTYPE|<!ENTITY/i.test(text))
    throw new ProvenantError(
      'INGEST_JUNIT_DTD_FORBIDDEN',
      'JUnit reports may not declare a DTD or entities',
    );
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    throw malformed(
      `JUnit report is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`,
    );
  let document: XmlNode;
  try {
    document = parser.parse(text) as XmlNode;
  } catch (error) {
    throw malformed('JUnit report could not be parsed', error);
  }
  const root = node(document['testsuites']);
  const suites = root !== undefined ? nodes(root['testsuite']) : nodes(document['testsuite']);
  if (root === undefined && suites.length === 0)
    throw malformed('Not a JUnit report: the root element must be <testsuites> or <testsuite>');

  const counts = { tests: 0, failures: 0, errors: 0, skipped: 0, suites: 0, cases: 0, time: 0 };
  const attributeCounts = { tests: 0, failures: 0, errors: 0, skipped: 0, time: 0, timed: false };
  const failing: JUnitFailure[] = [];
  let failingTotal = 0;

  const walk = (suite: XmlNode, depth: number): void => {
    if (depth > MAX_SUITE_DEPTH) throw malformed(`Test suites nest deeper than ${MAX_SUITE_DEPTH}`);
    counts.suites++;
    for (const testcase of nodes(suite['testcase'])) {
      counts.cases++;
      const kind =
        nodes(testcase['error']).length > 0 || testcase['error'] === ''
          ? 'error'
          : nodes(testcase['failure']).length > 0 || testcase['failure'] === ''
            ? 'failure'
            : undefined;
      if (kind === 'error') counts.errors++;
      else if (kind === 'failure') counts.failures++;
      else if (testcase['skipped'] !== undefined) counts.skipped++;
      if (kind !== undefined) {
        failingTotal++;
        if (failing.length < limits.maxFailingTests) {
          const classname = text256(testcase['classname']);
          const first = nodes(testcase[kind])[0] ?? {};
          const message = text256(first['message']);
          const type = text256(first['type']);
          failing.push({
            name: text256(testcase['name']) ?? '(unnamed)',
            ...(classname === undefined ? {} : { classname }),
            kind,
            ...(message === undefined ? {} : { message }),
            ...(type === undefined ? {} : { type }),
          });
        }
      }
    }
    for (const child of nodes(suite['testsuite'])) walk(child, depth + 1);
  };
  for (const suite of suites) {
    attributeCounts.tests += count(suite['tests']);
    attributeCounts.failures += count(suite['failures']);
    attributeCounts.errors += count(suite['errors']);
    attributeCounts.skipped += count(suite['skipped']) + count(suite['disabled']);
    const time = seconds(suite['time']);
    if (time !== undefined) {
      attributeCounts.time += time;
      attributeCounts.timed = true;
    }
    walk(suite, 1);
  }
  // Test cases are the truth when present; otherwise trust the suites' attributes.
  const fromCases = counts.cases > 0;
  const rootTime = root === undefined ? undefined : seconds(root['time']);
  const time = rootTime ?? (attributeCounts.timed ? round(attributeCounts.time) : undefined);
  return {
    tests: fromCases ? counts.cases : attributeCounts.tests,
    failures: fromCases ? counts.failures : attributeCounts.failures,
    errors: fromCases ? counts.errors : attributeCounts.errors,
    skipped: fromCases ? counts.skipped : attributeCounts.skipped,
    ...(time === undefined ? {} : { time }),
    suites: counts.suites,
    failing,
    failingTruncated: failingTotal > failing.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** What a JUnit receipt needs besides the report: the unit and action from the URL. */
export interface JUnitReceiptOptions {
  readonly unit: string;
  readonly action: string;
  readonly producer?: string;
  readonly correlationId?: string;
}

/**
 * The ReceiptInput of a parsed JUnit report: `multipass` is true only when no test
 * failed or errored; results hold the counts, the failing tests and the report's
 * SHA-256.
 */
export function junitToReceiptInput(
  summary: JUnitSummary,
  options: JUnitReceiptOptions,
): ReceiptInput {
  return {
    unit: options.unit,
    action: options.action,
    multipass: summary.failures === 0 && summary.errors === 0,
    results: {
      junit: {
        tests: summary.tests,
        failures: summary.failures,
        errors: summary.errors,
        skipped: summary.skipped,
        ...(summary.time === undefined ? {} : { time: summary.time }),
        suites: summary.suites,
        failing: summary.failing.map((f) => ({ ...f })),
        failingTruncated: summary.failingTruncated,
        report: { sha256: summary.sha256 },
      },
    },
    ...(options.producer === undefined ? {} : { producer: options.producer }),
    ...(options.correlationId === undefined ? {} : { correlationId: options.correlationId }),
  };
}

const node = (value: unknown): XmlNode | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as XmlNode)
    : value === ''
      ? {}
      : undefined;
const nodes = (value: unknown): XmlNode[] =>
  Array.isArray(value)
    ? value.map((v) => node(v) ?? {})
    : value === undefined
      ? []
      : [node(value) ?? {}];
const count = (value: unknown): number => {
  const n = typeof value === 'string' ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
};
const seconds = (value: unknown): number | undefined => {
  const n = typeof value === 'string' ? Number(value.replaceAll(',', '')) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};
const round = (n: number): number => Math.round(n * 1000) / 1000;
const text256 = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== ''
    ? decodeXmlReferences(value).slice(0, MAX_NAME_LENGTH)
    : undefined;

// Entity expansion is off in the parser; the five predefined entities and
// character references (XML 1.0 §4.1, §4.6) are decoded here, and nothing else.
const PREDEFINED: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};
const decodeXmlReferences = (text: string): string =>
  text.replace(
    /&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(lt|gt|amp|quot|apos));/g,
    (whole, hex?: string, dec?: string, name?: string) => {
      if (name !== undefined) return PREDEFINED[name] ?? whole;
      const code = hex !== undefined ? parseInt(hex, 16) : Number(dec);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    },
  );
