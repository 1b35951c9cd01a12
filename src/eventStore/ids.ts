// Event ids: ULIDs from one monotonic factory per process (sortable, unique), and
// the lossless ULID <-> UUID mapping backends with UUID ids need (both are 128 bits).
import { hash } from 'node:crypto';
import { TIME_MAX, monotonicFactory } from 'ulid';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A monotonic ULID factory (ULID spec, "Monotonicity") from the `ulid` package:
 * 48 bits of millisecond time, then 80 random bits drawn afresh in each new
 * millisecond; within one millisecond, or when the clock goes back, each id is
 * the previous one plus one, so ids from one factory strictly increase.
 *
 * Times are checked here: the package reads 0 as "now", and remembers a time it
 * then fails to encode, which would make every later call fail too.
 */
export function createUlidFactory(): (now?: number) => string {
  const next = monotonicFactory();
  return (now = Date.now()) => {
    if (!Number.isInteger(now) || now < 1 || now > TIME_MAX)
      throw new RangeError(`ULID time must be an integer from 1 to 2^48 - 1, got ${now}`);
    return next(now);
  };
}

/** The factory behind every event and receipt id of this process. */
const ulidFactory = createUlidFactory();

/** A new ULID, strictly greater than the previous one from this process. */
export const newEventId = (now: number = Date.now()): string => ulidFactory(now);

const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const isUlid = (value: string): boolean => ULID_RE.test(value);

/** The UUID with the same 128 bits as `ulid` (lower-case, hyphenated). */
export function ulidToUuid(ulid: string): string {
  if (!isUlid(ulid)) throw new TypeError(`Not a ULID: ${ulid}`);
  let n = 0n;
  for (const ch of ulid) n = (n << 5n) | BigInt(CROCKFORD.indexOf(ch));
  const hex = n.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The ULID with the same 128 bits as `uuid`. */
export function uuidToUlid(uuid: string): string {
  const lower = uuid.toLowerCase();
  if (!UUID_RE.test(lower)) throw new TypeError(`Not a UUID: ${uuid}`);
  let n = BigInt(`0x${lower.replaceAll('-', '')}`);
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = CROCKFORD.charAt(Number(n & 31n)) + out;
    n >>= 5n;
  }
  return out;
}

/**
 * RFC 9562 §5.5 name-based UUID (version 5, SHA-1), lower-case and hyphenated.
 * Written here: node:crypto makes only random UUIDs.
 */
export function uuidV5(namespace: string, name: string): string {
  if (!UUID_RE.test(namespace.toLowerCase())) throw new TypeError(`Not a UUID: ${namespace}`);
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const digest = hash('sha1', Buffer.concat([ns, Buffer.from(name, 'utf8')]), 'buffer');
  digest[6] = ((digest[6] as number) & 0x0f) | 0x50; // version 5
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = digest.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
