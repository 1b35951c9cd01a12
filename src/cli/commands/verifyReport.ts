// The report of `provenant verify` (verify.ts): printed for people, the
// export's own verification as its first check, and the log key file read.
import type {
  VerificationCheck,
  VerificationReport,
} from '../../application/attestations/index.js';
import type { ExportEvidence } from '../../application/export/index.js';
import { count } from '../shared.js';

/** The note verifier key in a file: its text, or the JSON `GET /v1/log/key` serves. */
export function logKeyText(bytes: Buffer): string {
  const text = bytes.toString('utf8').trim();
  try {
    const served = JSON.parse(text) as { verifierKey?: unknown };
    if (typeof served.verifierKey === 'string') return served.verifierKey;
  } catch {
    // not JSON: the key itself
  }
  return text;
}

/** The export's own verification as the first check of the report. */
export function withExportCheck(
  report: VerificationReport,
  evidence: ExportEvidence,
): VerificationReport {
  const { verified } = evidence;
  const [first, ...more] = verified.problems;
  const check: VerificationCheck =
    first === undefined
      ? {
          name: 'export',
          ok: true,
          outcome: 'passed',
          message: `${verified.source}: ${count(verified.checked.files, 'file')}, ${count(verified.checked.events, 'event')} verified`,
        }
      : {
          name: 'export',
          ok: false,
          outcome: 'failed',
          code: first.code,
          message: `${first.message}${more.length === 0 ? '' : ` (and ${more.length} more problem(s): run verify-export)`}`,
        };
  const checks = [check, ...report.checks];
  return {
    ...report,
    checks,
    result: checks.some((c) => c.outcome === 'failed')
      ? 'invalid'
      : checks.some((c) => c.outcome === 'could-not-check')
        ? 'could-not-check'
        : 'valid',
  };
}

const MARK: Record<VerificationCheck['outcome'], string> = {
  passed: 'ok  ',
  failed: 'FAIL',
  'could-not-check': '??  ',
};
const HEADLINE: Record<VerificationReport['result'], string> = {
  valid: 'VALID',
  invalid: 'INVALID',
  'could-not-check': 'COULD NOT CHECK',
};

export function printReport(
  report: VerificationReport,
  context: { what: string; store?: string },
): void {
  console.log(`${HEADLINE[report.result]}: ${context.what}`);
  for (const check of report.checks)
    console.log(
      `  ${MARK[check.outcome]} ${check.name}: ${check.message}${check.code === undefined ? '' : ` [${check.code}]`}`,
    );
  for (const note of report.notes ?? []) console.log(`  note: ${note}`);
  if (context.store === undefined && report.result === 'valid')
    console.log(
      '  note: no --store or --export: the current policy, the evidence and the Merkle log were not checked',
    );
}
