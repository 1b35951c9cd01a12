// Every environment variable Provenant reads: name, default and meaning. The
// README's configuration table is rendered from this list (npm run docs), and
// src/config.ts reads exactly these names.
import { DEFAULT_BUILDER_ID, DEFAULT_VERIFIER_ID } from './application/attestations/types.js';

/** Every variable Provenant reads, with its default and meaning (rendered in the README). */
export const configVariables = [
  ['PROVENANT_HOST', '127.0.0.1', 'Address the HTTP server listens on.'],
  ['PROVENANT_PORT', '8080', 'Port the HTTP server listens on (0 picks a free port).'],
  ['PROVENANT_DATA_DIR', './data', 'Directory for the embedded SQLite log and local state.'],
  [
    'PROVENANT_STORE',
    'sqlite',
    'Event-store backend: `sqlite` (embedded), `postgres` (shared by several nodes, see docs/postgres.md) or `eventstore` (KurrentDB/EventStoreDB).',
  ],
  [
    'PROVENANT_READ_MODELS',
    'sqlite',
    'Read-model backend: `sqlite` (a file beside the log) or `postgres` (shared by several API nodes and leader-elected projection workers).',
  ],
  [
    'PROVENANT_POSTGRES_URL',
    '(none)',
    'PostgreSQL connection URL (`postgres://user:password@host:5432/db`); required when `PROVENANT_STORE` or `PROVENANT_READ_MODELS` is `postgres`. Never logged.',
  ],
  [
    'PROVENANT_POSTGRES_SCHEMA',
    'public',
    'PostgreSQL schema that holds the log, Merkle log and read-model tables (created at start when missing).',
  ],
  ['PROVENANT_SQLITE_PATH', '<data dir>/provenant.db', 'SQLite database file.'],
  [
    'PROVENANT_SQLITE_SYNCHRONOUS',
    'FULL',
    '`FULL`: durable against power loss. `NORMAL`: faster; the last commits may be lost on power loss (not on a process crash).',
  ],
  [
    'PROVENANT_SQLITE_WRITER',
    'inline',
    '`inline`: group commit on the request thread. `worker`: a worker thread owns the write connection, so commits never block requests, at the cost of copying rows between threads (measured slower on 2 cores).',
  ],
  [
    'PROVENANT_READ_MODELS_PATH',
    '<log file>-readmodels.db',
    'SQLite file of the read models, apart from the log (e.g. `data/provenant-readmodels.db` beside `data/provenant.db`). Rebuilt from the log when missing, corrupt or newer, and each read model when it was built from another log or is ahead of this one (docs/projections.md). One process runs the projections on it at a time, holding the lock file `<file>.runner.lock` beside it (others on the file answer queries and stand by; `projections rebuild` beside it asks it to rebuild).',
  ],
  [
    'PROVENANT_PROJECTIONS',
    'inline',
    '`inline`: `provenant serve` also runs the projections. `off`: it does not (run `provenant projections run` as its own process).',
  ],
  [
    'PROVENANT_METRICS_PORT',
    '(none)',
    'Port `provenant projections run` serves `GET /metrics` (Prometheus, `operate` permission, as on the API) and `GET /healthz` on (0 picks a free port); unset: no listener. `provenant serve` has `/metrics` on its own port.',
  ],
  [
    'PROVENANT_METRICS_HOST',
    '127.0.0.1',
    'Address the metrics listener of `provenant projections run` binds to.',
  ],
  [
    'PROVENANT_MERKLE_PATH',
    '<log file>-merkle.db',
    'SQLite file of the Merkle log of `$all` (leaves, subtree hashes, signed checkpoints), apart from the log; rebuilt from the log when missing. Nothing is signed while the log does not hold the events it recorded (TLOG_LOG_MISMATCH: a log truncated, restored without it, or replaced). One process signs it at a time, holding the lock file `<file>.signer.lock` beside it (others on the store stand by; `log rotate-key` refuses while one signs). Unused with `PROVENANT_STORE=postgres` or `PROVENANT_READ_MODELS=postgres`: the Merkle log is then in PostgreSQL, shared by every node.',
  ],
  [
    'PROVENANT_LOG_KEY',
    '<data dir>/log-key.pem',
    'PEM file of the Ed25519 key checkpoints are signed with (C2SP signed note). Generated at the default path when missing; when set, the file must exist. On PostgreSQL every node and worker must use the same key file (a node whose key does not verify the latest checkpoint never signs). Replace it with `provenant log rotate-key` (a key rotated away signs nothing more).',
  ],
  [
    'PROVENANT_LOG_ORIGIN',
    'provenant.local/log',
    'Origin line of the checkpoints (names this log) and name of the note key.',
  ],
  ['PROVENANT_CHECKPOINT_EVERY', '1000', 'Sign a checkpoint after this many new events...'],
  ['PROVENANT_CHECKPOINT_SECONDS', '60', '...or this many seconds after the first unsigned event.'],
  [
    'PROVENANT_CHECKPOINT_WITNESS_FILE',
    '(none)',
    'File each signed checkpoint is also written to (a witness copy outside the store, for `provenant log verify --checkpoint`).',
  ],
  [
    'PROVENANT_CHECKPOINT_WITNESS_URL',
    '(none)',
    "http(s) URL each signed checkpoint is also handed to (a witness service outside the store): POSTed as `text/plain`, or, with `PROVENANT_CHECKPOINT_WITNESS_PROTOCOL=tlog-witness`, the witness's submission prefix (`<URL>/add-checkpoint`); 5 s timeout, 4 attempts with backoff, a newer checkpoint supersedes an undelivered one; failures are logged and counted, never stop the log.",
  ],
  [
    'PROVENANT_CHECKPOINT_WITNESS_PROTOCOL',
    'post',
    '`post` (the note as the body, any 2xx is delivered) or `tlog-witness` (C2SP tlog-witness `add-checkpoint` with a consistency proof; the cosignature is verified, appended to the log as `CheckpointCosigned.v1` and served with the checkpoint).',
  ],
  [
    'PROVENANT_CHECKPOINT_WITNESS_KEY',
    '(none)',
    "The witness's cosignature/v1 verifier key(s) (C2SP vkey `<name>+<key ID>+<base64(0x04 ‖ key)>`, several separated by commas or spaces); required with `tlog-witness`. Cosignatures by other keys are ignored.",
  ],
  [
    'PROVENANT_CHECKPOINT_WITNESSES',
    '(none)',
    "More C2SP tlog-witnesses, besides the one of `PROVENANT_CHECKPOINT_WITNESS_URL`: one per line or `;`-separated entry, each its submission prefix then its cosignature/v1 vkey(s), separated by spaces (`https://w1.example/tlog w1.example/w1+1a2b3c4d+BB...; https://w2.example w2.example+...`). Each witness is delivered to on its own (a slow or down witness delays neither the others nor signing), with the same timeout and retries; its last cosigned size is recovered from the log's `CheckpointCosigned` events at start. A URL or a key is given once; a URL with credentials (`user:pass@`) is refused, as for `PROVENANT_CHECKPOINT_WITNESS_URL` (fetch refuses such URLs: put a proxy in front that adds them). Logs and metrics name a witness by origin and path only.",
  ],
  [
    'PROVENANT_CHECKPOINT_WITNESS_QUORUM',
    '(none)',
    'How many of the configured tlog-witnesses (distinct cosignature key names) must have cosigned a checkpoint before the store presents it: `GET /v1/log/checkpoint`, the default size of proofs, the checkpoint attestations and exports name are then the newest checkpoint with that many valid cosignatures (404 `TLOG_NO_CHECKPOINT` until there is one). Signing and witnessing go on as before. From 1 to the number of witnesses; set it on every node.',
  ],
  [
    'EVENTSTORE_CONNECTION_STRING',
    '(none)',
    'KurrentDB/EventStoreDB connection string (`esdb://`, `kurrentdb://`, `+discover` forms); required when `PROVENANT_STORE=eventstore`.',
  ],
  [
    'EVENTSTORE_CA_FILE',
    '(none)',
    "PEM file of the CA that signed the KurrentDB nodes' certificates.",
  ],
  [
    'EVENTSTORE_USERNAME',
    '(none)',
    'KurrentDB user; overrides the connection string. Never logged.',
  ],
  [
    'EVENTSTORE_PASSWORD',
    '(none)',
    'KurrentDB password; overrides the connection string. Never logged.',
  ],
  ['PROVENANT_LOG_LEVEL', 'info', 'Log level: fatal, error, warn, info, debug, trace or silent.'],
  ['PROVENANT_BODY_LIMIT', '1048576', 'Largest request body accepted, in bytes.'],
  ['PROVENANT_EVENT_LIMIT', '262144', 'Largest single event accepted, in bytes.'],
  [
    'PROVENANT_CLOCK_SKEW_MS',
    '300000',
    "How far ahead of the store's clock a time an ingested event claims (CloudEvent time, a receipt's startedAt/finishedAt) may lie, in ms (1000 to 86400000); later is INGEST_TIME_IN_FUTURE.",
  ],
  [
    'PROVENANT_PRODUCERS_FILE',
    '(none)',
    'JSON file of registered producers: their CloudEvent source globs, public keys and whether they must sign (docs/security.md). Without it, signatures are not checked.',
  ],
  [
    'PROVENANT_RATE_LIMIT',
    '1000000',
    'Requests one principal (or client address, when anonymous) may make per window; 429 with Retry-After beyond. The default only stops runaway clients (the ingest benchmark reaches 100,000 a minute); set it to what your producers need.',
  ],
  ['PROVENANT_RATE_LIMIT_WINDOW_MS', '60000', 'The rate-limit window, in milliseconds.'],
  [
    'PROVENANT_INGEST_QUEUE',
    '256',
    'Ingest requests in progress at once; 503 with Retry-After when full.',
  ],
  [
    'PROVENANT_INGEST_QUEUE_PER_PRINCIPAL',
    '128',
    'Ingest requests one principal may have in progress at once; 429 with Retry-After beyond.',
  ],
  [
    'PROVENANT_HEADERS_TIMEOUT_MS',
    '10000',
    'Time a client has to send all request headers (408, connection closed).',
  ],
  [
    'PROVENANT_REQUEST_TIMEOUT_MS',
    '25000',
    'Time a client has to send the whole request, body included (408, connection closed).',
  ],
  [
    'PROVENANT_KEEP_ALIVE_TIMEOUT_MS',
    '5000',
    'An idle keep-alive connection is closed after this.',
  ],
  [
    'PROVENANT_IDLE_TIMEOUT_MS',
    '60000',
    'A connection with no traffic at all is closed after this.',
  ],
  ['PROVENANT_MAX_CONNECTIONS', '1024', 'Connections open at once; more are closed on arrival.'],
  [
    'PROVENANT_SHUTDOWN_TIMEOUT_MS',
    '10000',
    'How long a graceful shutdown waits for in-flight work.',
  ],
  [
    'PROVENANT_SIGNING_KEY',
    '<data dir>/signing-key.pem',
    'PEM file of the ECDSA P-256 key attestations are signed with. When unset and the default file is missing, a key pair is generated there at start (mode 0600, public key beside it as `signing-key.pub.pem`) and its key id logged; when set, the file must exist.',
  ],
  [
    'PROVENANT_BUILDER_ID',
    DEFAULT_BUILDER_ID,
    'TypeURI of the builder named in the SLSA provenance the store issues.',
  ],
  [
    'PROVENANT_VERIFIER_ID',
    DEFAULT_VERIFIER_ID,
    'TypeURI of the verifier named in the VSAs the store issues.',
  ],
  [
    'PROVENANT_FULCIO_URL',
    '(none)',
    'Fulcio base URL: when set, attestations are signed keyless (a short-lived certificate for the identity token) instead of with `PROVENANT_SIGNING_KEY`; needs `PROVENANT_OIDC_TOKEN_FILE` and a Rekor or TSA URL.',
  ],
  ['PROVENANT_REKOR_URL', '(none)', 'Rekor base URL: keyless signatures are logged there.'],
  [
    'PROVENANT_TSA_URL',
    '(none)',
    'RFC 3161 timestamp authority base URL: keyless signatures are timestamped there.',
  ],
  [
    'PROVENANT_OIDC_TOKEN_FILE',
    '(none)',
    'File holding the OIDC identity token for keyless signing, read at each signature (so a rotated token is picked up).',
  ],
  [
    'PROVENANT_AUTH_ANONYMOUS',
    'false',
    'DEVELOPMENT ONLY: `true` makes every request without credentials the admin `anonymous` (warned at start and in `/readyz`). `npm start` sets it unless this variable says `false`.',
  ],
  [
    'PROVENANT_AUTH_FILE',
    '(none)',
    'JSON file of principals: static token hashes (`provenant tokens create`), client-certificate subjects and OIDC subject rules, each with roles and, for producers, a scope (docs/security.md).',
  ],
  [
    'PROVENANT_AUTH_OIDC_ISSUER',
    '(none)',
    'Accept OIDC bearer JWTs from this issuer (`iss`, exactly); needs `PROVENANT_AUTH_OIDC_AUDIENCE`.',
  ],
  [
    'PROVENANT_AUTH_OIDC_AUDIENCE',
    '(none)',
    'Audience(s) the JWTs must name (`aud`), comma-separated.',
  ],
  [
    'PROVENANT_AUTH_OIDC_JWKS_URL',
    '<from discovery>',
    "The issuer's JWKS URL; when unset, `jwks_uri` from `<issuer>/.well-known/openid-configuration`.",
  ],
  [
    'PROVENANT_AUTH_OIDC_ALGORITHMS',
    'RS256,PS256,ES256,ES384,EdDSA',
    'JWS algorithms accepted, comma-separated (`none` and HMAC are refused).',
  ],
  [
    'PROVENANT_AUTH_OIDC_CLOCK_TOLERANCE',
    '30',
    'Clock skew tolerated on `exp` and `nbf`, in seconds.',
  ],
  [
    'PROVENANT_TLS_CERT',
    '(none)',
    'PEM certificate (chain): serve HTTPS; needs `PROVENANT_TLS_KEY`.',
  ],
  ['PROVENANT_TLS_KEY', '(none)', 'PEM private key of `PROVENANT_TLS_CERT`. Never logged.'],
  [
    'PROVENANT_TLS_CLIENT_CA',
    '(none)',
    'PEM CA of client certificates: clients may then authenticate with a certificate whose subject `PROVENANT_AUTH_FILE` maps to a principal (mTLS).',
  ],
  [
    'PROVENANT_API_TOKEN',
    '(none)',
    'Client side: the bearer token `provenant verify --store` sends to the store (a static token or a JWT). Never logged.',
  ],
  [
    'PROVENANT_TRUSTED_PROXIES',
    '(none)',
    'Comma-separated addresses or CIDR ranges of the proxies whose `X-Forwarded-*` headers are believed; such headers from any other peer are refused (400).',
  ],
  [
    'PROVENANT_ATTEST_ON_STAGE_PASSED',
    'true',
    'Issue a VSA automatically for every `StagePassed` (`true` or `false`).',
  ],
] as const;

export type ConfigVariable = (typeof configVariables)[number][0];
