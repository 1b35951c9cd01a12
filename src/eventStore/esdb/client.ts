// Client configuration for the EventStoreDB/KurrentDB adapter: the options the
// composition root gives, the client's constructor arguments (TLS files read
// here), and the client itself. Knows nothing of the store built on it.
import { readFileSync } from 'node:fs';
import {
  EventStoreDBClient,
  type ChannelCredentialOptions,
  type Credentials,
  type DNSClusterOptions,
  type GossipClusterOptions,
  type SingleNodeOptions,
} from '@eventstore/db-client';
import { ProvenantError } from '../../errors.js';
import { parseEsdbConnectionString, type EsdbConnectionSettings } from './connectionString.js';

/** How to reach the log. Built by the composition root from configuration. */
export interface EsdbEventStoreOptions {
  /** `esdb://`, `esdb+discover://`, `kurrentdb://` or `kurrentdb+discover://` (EVENTSTORE_CONNECTION_STRING). */
  connectionString: string;
  /** Overrides credentials in the connection string (EVENTSTORE_USERNAME). Never logged. */
  username?: string;
  /** EVENTSTORE_PASSWORD. Never logged. */
  password?: string;
  /** PEM file of the CA that signed the servers' certificates (EVENTSTORE_CA_FILE); overrides `tlsCAFile`. */
  tlsCaFile?: string;
  /** How long `isReady()` waits for the server, in ms. Default 2000. */
  readinessTimeoutMs?: number;
  /** Backoff of subscriptions while the server is away, in ms. Defaults 100 and 5000. */
  subscriptionRetry?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Source of recorded times (tests). */
  clock?: () => Date;
}

/** The operations of the client the adapter uses: the seam for tests without a server. */
export type EsdbClient = Pick<
  EventStoreDBClient,
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'dispose'
>;

const configError = (message: string, cause?: unknown): ProvenantError =>
  new ProvenantError('STORE_CONFIGURATION', message, cause === undefined ? {} : { cause });

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw configError(
      `Cannot read the ${what} '${path}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      error,
    );
  }
}

/** What the client's constructor takes, resolved from the settings. */
export interface EsdbClientArguments {
  connection: DNSClusterOptions | GossipClusterOptions | SingleNodeOptions;
  channel: ChannelCredentialOptions;
  credentials: Credentials | undefined;
}

/** Client constructor arguments for parsed settings (reads the TLS files named). */
export function clientArguments(
  settings: EsdbConnectionSettings,
  options: Pick<EsdbEventStoreOptions, 'username' | 'password' | 'tlsCaFile'>,
): EsdbClientArguments {
  if ((options.username === undefined) !== (options.password === undefined))
    throw configError('EventStoreDB/KurrentDB user name and password must be given together');
  const credentials: Credentials | undefined =
    options.username !== undefined && options.password !== undefined
      ? { username: options.username, password: options.password }
      : settings.credentials;
  const channel: ChannelCredentialOptions = { insecure: !settings.tls };
  const caFile = options.tlsCaFile ?? settings.tlsCaFile;
  if (settings.tls) {
    if (caFile !== undefined) channel.rootCertificate = readPem(caFile, 'TLS CA file');
    if (settings.userCertFile !== undefined && settings.userKeyFile !== undefined) {
      channel.userCertFile = readPem(settings.userCertFile, 'user certificate file');
      channel.userKeyFile = readPem(settings.userKeyFile, 'user key file');
    }
  }
  const common = {
    throwOnAppendFailure: true,
    ...(settings.keepAliveInterval !== undefined && {
      keepAliveInterval: settings.keepAliveInterval,
    }),
    ...(settings.keepAliveTimeout !== undefined && { keepAliveTimeout: settings.keepAliveTimeout }),
    ...(settings.defaultDeadline !== undefined && { defaultDeadline: settings.defaultDeadline }),
    ...(settings.connectionName !== undefined && { connectionName: settings.connectionName }),
  };
  const discovery = {
    ...(settings.nodePreference !== undefined && { nodePreference: settings.nodePreference }),
    ...(settings.maxDiscoverAttempts !== undefined && {
      maxDiscoverAttempts: settings.maxDiscoverAttempts,
    }),
    ...(settings.discoveryInterval !== undefined && {
      discoveryInterval: settings.discoveryInterval,
    }),
    ...(settings.gossipTimeout !== undefined && { gossipTimeout: settings.gossipTimeout }),
  };
  const [first] = settings.hosts;
  if (first === undefined) throw configError('No EventStoreDB/KurrentDB host configured');
  if (settings.dnsDiscover)
    return { connection: { discover: first, ...discovery, ...common }, channel, credentials };
  if (settings.hosts.length > 1)
    return {
      connection: { endpoints: settings.hosts, ...discovery, ...common },
      channel,
      credentials,
    };
  return { connection: { endpoint: first, ...common }, channel, credentials };
}

// The constructor's three overloads differ only in the first argument's type
// and share one implementation, which takes any of them; typed as one signature
// it takes the union `clientArguments` returns.
const EsdbClientConstructor = EventStoreDBClient as new (
  connection: EsdbClientArguments['connection'],
  channel?: ChannelCredentialOptions,
  credentials?: Credentials,
) => EventStoreDBClient;

/**
 * The client for the options (lazy: the first call opens the channel). Throws
 * `STORE_CONFIGURATION` for a malformed connection string, an unreadable TLS
 * file or settings the client refuses.
 */
export function createEsdbClient(options: EsdbEventStoreOptions): EventStoreDBClient {
  const settings = parseEsdbConnectionString(options.connectionString);
  const { connection, channel, credentials } = clientArguments(settings, options);
  try {
    return new EsdbClientConstructor(connection, channel, credentials);
  } catch (error) {
    throw configError(
      `Invalid EventStoreDB/KurrentDB client settings: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
}
