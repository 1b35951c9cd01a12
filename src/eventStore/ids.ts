// Event ids: ULIDs from one monotonic factory per process (sortable, unique), and
// the lossless ULID <-> UUID mapping backends with UUID ids need (both are 128 bits).
import { hash, randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

// The ulid package draws one byte from crypto.randomBytes per character; the
// same CSPRNG bytes, fetched 4 KiB at a time, cost a fraction of that.
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;
function pooledRandom(): number {
  if (randomOffset === randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  return (randomPool[randomOffset++] as number) / 256;
}

const ulidFactory = monotonicFactory(pooledRandom);

/** A new ULID, strictly greater than the previous one from this process. */
export const newEventId = (now: number = Date.now()): string => ulidFactory(now);

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
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

// Namespaces are few and fixed: each is decoded once.
const namespaceBytes = new Map<string, Buffer>();

function namespaceOf(namespace: string): Buffer {
  let bytes = namespaceBytes.get(namespace);
  if (bytes === undefined) {
    if (!UUID_RE.test(namespace.toLowerCase())) throw new TypeError(`Not a UUID: ${namespace}`);
    bytes = Buffer.from(namespace.replaceAll('-', ''), 'hex');
    namespaceBytes.set(namespace, bytes);
  }
  return bytes;
}

/** RFC 9562 §5.5 name-based UUID (version 5, SHA-1), lower-case and hyphenated. */
export function uuidV5(namespace: string, name: string): string {
  const ns = namespaceOf(namespace);
  const digest = hash('sha1', Buffer.concat([ns, Buffer.from(name, 'utf8')]), 'buffer');
  digest[6] = ((digest[6] as number) & 0x0f) | 0x50; // version 5
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = digest.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
