// Identifiers the domain accepts: gate ids, stage ids, action names and receipt
// ids. They appear in stream names (`gate-<id>`, `stage-<id>`) and URLs, so they
// are limited to a safe character set and a bounded length.
import { ProvenantError, type ErrorCode } from '../errors.js';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ACTION_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Longest gate or stage id. */
export const MAX_ID_LENGTH = 100;
/** Longest action name. */
export const MAX_ACTION_LENGTH = 100;

/** The stream prefixes of definition streams. */
export const GATE_STREAM_PREFIX = 'gate-';
export const STAGE_STREAM_PREFIX = 'stage-';

function check(
  code: ErrorCode,
  what: string,
  value: unknown,
  re: RegExp,
  max: number,
  rule: string,
): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new ProvenantError(code, `${what} must be a non-empty string`);
  if (value.length > max)
    throw new ProvenantError(
      code,
      `${what} is ${value.length} characters long; the limit is ${max}`,
    );
  if (!re.test(value))
    throw new ProvenantError(code, `${what} '${value.replace(/[^\x20-\x7e]/g, '?')}' ${rule}`);
  return value;
}

const ID_RULE = 'must start with a letter or digit and contain only letters, digits, . _ -';

/** Validates a gate id; throws `DOMAIN_INVALID_GATE`. */
export const assertGateId = (id: unknown): string =>
  check('DOMAIN_INVALID_GATE', 'Gate id', id, ID_RE, MAX_ID_LENGTH, ID_RULE);

/** Validates a stage id; throws `DOMAIN_INVALID_STAGE`. */
export const assertStageId = (id: unknown): string =>
  check('DOMAIN_INVALID_STAGE', 'Stage id', id, ID_RE, MAX_ID_LENGTH, ID_RULE);

/** Validates an action name; throws with `code` (the caller's context). */
export const assertActionName = (
  action: unknown,
  code: ErrorCode = 'DOMAIN_INVALID_RECEIPT',
): string =>
  check(
    code,
    'Action',
    action,
    ACTION_RE,
    MAX_ACTION_LENGTH,
    'must start with a letter or digit and contain only letters, digits, . _ : -',
  );

/**
 * Whether `id` is a receipt id: a ULID (generated) or a lower-case UUID (derived
 * deterministically from a CloudEvent's source and id).
 */
export const isReceiptId = (id: unknown): id is string =>
  typeof id === 'string' && (ULID_RE.test(id) || UUID_RE.test(id));

/** The stream of a gate's definitions: `gate-<id>`. */
export const gateStreamName = (gateId: string): string => GATE_STREAM_PREFIX + assertGateId(gateId);

/** The stream of a stage's definitions: `stage-<id>`. */
export const stageStreamName = (stageId: string): string =>
  STAGE_STREAM_PREFIX + assertStageId(stageId);
