// Connection strings for EventStoreDB / KurrentDB, parsed by us rather than by the
// client: the 6.x client only knows the `esdb…` schemes, and its parse errors and
// debug logs quote the whole string, password included. Pure: no I/O here.
//
// Grammar (https://docs.kurrent.io/clients/grpc/getting-started.html#connection-string):
//   scheme://[user:password@]host[:port][,host[:port]…][/][?key=value[&key=value…]]
// with scheme one of esdb, esdb+discover, kurrentdb, kurrentdb+discover.
import { ProvenantError } from '../../errors.js';

export const DEFAULT_ESDB_PORT = 2113;

/** Node the client should prefer in a cluster. */
export type EsdbNodePreference = 'leader' | 'follower' | 'random' | 'read_only_replica';

/** One `host:port` of a connection string. */
export interface EsdbEndpoint {
  address: string;
  port: number;
}

/** What a connection string says, checked; credentials kept apart so they can be redacted. */
export interface EsdbConnectionSettings {
  /** `true` for the `+discover` schemes: the host is a DNS name resolving to the cluster's gossip seeds. */
  dnsDiscover: boolean;
  hosts: EsdbEndpoint[];
  /** Defaults to `true`, as in the client. */
  tls: boolean;
  tlsCaFile?: string;
  userCertFile?: string;
  userKeyFile?: string;
  credentials?: { username: string; password: string };
  nodePreference?: EsdbNodePreference;
  connectionName?: string;
  maxDiscoverAttempts?: number;
  discoveryInterval?: number;
  gossipTimeout?: number;
  defaultDeadline?: number;
  keepAliveInterval?: number;
  keepAliveTimeout?: number;
}

const SCHEMES: Record<string, boolean> = {
  esdb: false,
  'esdb+discover': true,
  kurrentdb: false,
  'kurrentdb+discover': true,
};

const NODE_PREFERENCES: Record<string, EsdbNodePreference> = {
  leader: 'leader',
  follower: 'follower',
  random: 'random',
  readonlyreplica: 'read_only_replica',
};

type IntegerKey =
  | 'maxDiscoverAttempts'
  | 'discoveryInterval'
  | 'gossipTimeout'
  | 'defaultDeadline'
  | 'keepAliveInterval'
  | 'keepAliveTimeout';
const INTEGER_KEYS: readonly IntegerKey[] = [
  'maxDiscoverAttempts',
  'discoveryInterval',
  'gossipTimeout',
  'defaultDeadline',
  'keepAliveInterval',
  'keepAliveTimeout',
];
// Keep-alive settings accept -1 ("disabled"), the others must be positive.
const ALLOWS_MINUS_ONE = new Set<IntegerKey>(['keepAliveInterval', 'keepAliveTimeout']);

/** Keys compared as the client does: case-insensitive, `-` and `_` ignored. */
const flat = (key: string): string => key.trim().toLowerCase().replace(/[-_]/g, '');

/**
 * The connection string with any `user:password@` replaced by `***@`: the only
 * form of it that may appear in a message or a log. Works on malformed input too.
 */
export function redactConnectionString(connectionString: string): string {
  const schemeEnd = connectionString.indexOf('://');
  const authorityStart = schemeEnd === -1 ? 0 : schemeEnd + 3;
  // The last '@' anywhere: a password with an unencoded '?', '/' or '@' is still
  // hidden; an '@' in an option value only hides more than needed.
  const at = connectionString.lastIndexOf('@');
  if (at < authorityStart) return connectionString;
  return `${connectionString.slice(0, authorityStart)}***@${connectionString.slice(at + 1)}`;
}

const fail = (connectionString: string, problem: string): ProvenantError =>
  new ProvenantError(
    'STORE_CONFIGURATION',
    `Invalid EventStoreDB/KurrentDB connection string '${redactConnectionString(connectionString)}': ${problem}`,
    { details: { connectionString: redactConnectionString(connectionString) } },
  );

function decode(connectionString: string, value: string, what: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw fail(connectionString, `${what} is not valid percent-encoding`);
  }
}

function parsePort(connectionString: string, raw: string, host: string): number {
  if (!/^\d{1,5}$/.test(raw))
    throw fail(connectionString, `port of host '${host}' must be a number, got '${raw}'`);
  const port = Number(raw);
  if (port < 1 || port > 65535)
    throw fail(connectionString, `port of host '${host}' must be between 1 and 65535`);
  return port;
}

function parseHosts(connectionString: string, text: string): EsdbEndpoint[] {
  if (text === '') throw fail(connectionString, 'no host given');
  return text.split(',').map((part) => {
    const hostPort = part.trim();
    if (hostPort === '') throw fail(connectionString, 'empty host in the host list');
    if (hostPort.startsWith('['))
      throw fail(connectionString, 'IPv6 literals are not supported by the client; use a name');
    const pieces = hostPort.split(':');
    if (pieces.length > 2) throw fail(connectionString, `host '${hostPort}' has more than one ':'`);
    const [address = '', rawPort] = pieces;
    if (!/^[A-Za-z0-9.-]+$/.test(address))
      throw fail(connectionString, `host '${address}' is not a valid host name or IPv4 address`);
    const port =
      rawPort === undefined ? DEFAULT_ESDB_PORT : parsePort(connectionString, rawPort, address);
    return { address, port };
  });
}

function parseBoolean(connectionString: string, key: string, value: string): boolean {
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw fail(connectionString, `option '${key}' must be true or false, got '${value}'`);
}

function applyOption(
  connectionString: string,
  settings: EsdbConnectionSettings,
  rawKey: string,
  rawValue: string,
): void {
  const key = flat(rawKey);
  const value = decode(connectionString, rawValue.trim(), `value of option '${rawKey}'`);
  if (value === '') throw fail(connectionString, `option '${rawKey}' has an empty value`);
  const integerKey = INTEGER_KEYS.find((k) => flat(k) === key);
  if (integerKey !== undefined) {
    const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    const ok = Number.isSafeInteger(n) && (n > 0 || (n === -1 && ALLOWS_MINUS_ONE.has(integerKey)));
    if (!ok)
      throw fail(
        connectionString,
        `option '${rawKey}' must be a positive integer${ALLOWS_MINUS_ONE.has(integerKey) ? ' or -1' : ''}, got '${value}'`,
      );
    settings[integerKey] = n;
    return;
  }
  switch (key) {
    case 'tls':
      settings.tls = parseBoolean(connectionString, rawKey, value);
      return;
    case 'tlsverifycert':
      // The 6.x client ignores this option with a console warning; refuse it instead
      // of silently verifying anyway.
      if (!parseBoolean(connectionString, rawKey, value))
        throw fail(
          connectionString,
          'tlsVerifyCert=false is not supported by @eventstore/db-client 6; give the CA with tlsCAFile (or EVENTSTORE_CA_FILE) instead',
        );
      return;
    case 'tlscafile':
      settings.tlsCaFile = value;
      return;
    case 'usercertfile':
      settings.userCertFile = value;
      return;
    case 'userkeyfile':
      settings.userKeyFile = value;
      return;
    case 'connectionname':
      settings.connectionName = value;
      return;
    case 'nodepreference': {
      const preference = NODE_PREFERENCES[flat(value)];
      if (preference === undefined)
        throw fail(
          connectionString,
          `option '${rawKey}' must be leader, follower, random or read_only_replica, got '${value}'`,
        );
      settings.nodePreference = preference;
      return;
    }
    case 'throwonappendfailure':
      // The adapter relies on failed appends throwing; only the default is accepted.
      if (!parseBoolean(connectionString, rawKey, value))
        throw fail(connectionString, 'throwOnAppendFailure=false is not supported by Provenant');
      return;
    default:
      throw fail(connectionString, `unknown option '${rawKey}'`);
  }
}

/**
 * Parses and checks a connection string. Accepts the `esdb://`, `esdb+discover://`,
 * `kurrentdb://` and `kurrentdb+discover://` schemes. Throws `STORE_CONFIGURATION`
 * naming the problem, with the credentials redacted.
 */
export function parseEsdbConnectionString(connectionString: string): EsdbConnectionSettings {
  if (typeof connectionString !== 'string' || connectionString.trim() === '')
    throw new ProvenantError(
      'STORE_CONFIGURATION',
      'The EventStoreDB/KurrentDB connection string is empty',
    );
  const text = connectionString.trim();
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (schemeMatch === null)
    throw fail(
      text,
      'it must start with esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://',
    );
  const scheme = (schemeMatch[1] ?? '').toLowerCase();
  const dnsDiscover = SCHEMES[scheme];
  if (dnsDiscover === undefined)
    throw fail(
      text,
      `unsupported scheme '${scheme}://'; use esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://`,
    );
  let rest = text.slice(schemeMatch[0].length);
  const settings: EsdbConnectionSettings = { dnsDiscover, hosts: [], tls: true };
  // As in redactConnectionString: everything before the last '@' is the credentials
  // (so a password may hold '?', '/' or ':'); a literal '@' elsewhere must be %40.
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    const userInfo = rest.slice(0, at);
    const colon = userInfo.indexOf(':');
    if (colon <= 0 || colon === userInfo.length - 1)
      throw fail(text, 'credentials must be given as user:password@');
    settings.credentials = {
      username: decode(text, userInfo.slice(0, colon), 'user name'),
      password: decode(text, userInfo.slice(colon + 1), 'password'),
    };
    rest = rest.slice(at + 1);
  }
  const queryAt = rest.indexOf('?');
  const query = queryAt === -1 ? '' : rest.slice(queryAt + 1);
  rest = (queryAt === -1 ? rest : rest.slice(0, queryAt)).replace(/\/+$/, '');
  if (rest.includes('/')) throw fail(text, 'a path is not allowed after the hosts');
  settings.hosts = parseHosts(text, rest);
  if (dnsDiscover && settings.hosts.length > 1)
    throw fail(text, 'a +discover scheme takes exactly one DNS name');

  if (queryAt !== -1) {
    if (query === '') throw fail(text, "nothing after '?'");
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw fail(text, `option '${pair}' must be key=value`);
      applyOption(text, settings, pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  if ((settings.userCertFile === undefined) !== (settings.userKeyFile === undefined))
    throw fail(text, 'userCertFile and userKeyFile must be given together');
  return settings;
}
