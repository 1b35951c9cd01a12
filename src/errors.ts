// One registry of stable error codes (STYLE.md §11–12). Every error Provenant
// reports carries one of these codes; the HTTP edge maps the code to a status and
// an RFC 9457 problem+json body. A test fails when a code is not documented in
// the README's error table, so add the row there when you add a code here.
//
// One file on purpose, over 400 lines: the catalog is the list of codes itself
// (one line or three per code, grouped by part), and the docs generator, the
// README test and the edge read it as one table; split by part, a code could
// be added twice or a part forgotten by the generator.

/** What the edge needs to know about a code. */
export interface ErrorCodeInfo {
  /** HTTP status the code maps to at the edge. */
  readonly status: number;
  /** Short, stable, human title (RFC 9457 `title`). */
  readonly title: string;
}

export const errorCodes = {
  // Event store (src/eventStore)
  STORE_REVISION_CONFLICT: { status: 409, title: 'Expected stream revision does not match' },
  STORE_IDEMPOTENCY_CONFLICT: {
    status: 409,
    title: 'Idempotency key already used with different content',
  },
  STORE_INVALID_STREAM_NAME: { status: 400, title: 'Invalid stream name' },
  STORE_INVALID_EXPECTED_REVISION: { status: 400, title: 'Invalid expected revision' },
  STORE_EMPTY_APPEND: { status: 400, title: 'Append contains no events' },
  STORE_INVALID_EVENT: { status: 400, title: 'Event cannot be stored' },
  STORE_INVALID_READ_OPTIONS: { status: 400, title: 'Invalid read options' },
  STORE_CLOSED: { status: 503, title: 'Event store is closed' },
  STORE_BACKEND_UNAVAILABLE: { status: 503, title: 'Event store backend unavailable' },
  STORE_INTEGRITY_VIOLATION: { status: 500, title: 'Stored events fail integrity checks' },
  STORE_CONFIGURATION: { status: 500, title: 'Invalid event store configuration' },
  STORE_NOT_FOUND: { status: 500, title: 'No event log at the configured path' },

  // EventStoreDB / KurrentDB adapter (src/eventStore/esdb)
  ESDB_ACCESS_DENIED: { status: 503, title: 'EventStoreDB/KurrentDB denied access' },
  ESDB_UNEXPECTED: { status: 502, title: 'Unexpected EventStoreDB/KurrentDB error' },

  // HTTP edge (src/http)
  HTTP_NOT_FOUND: { status: 404, title: 'Resource not found' },
  HTTP_BAD_REQUEST: { status: 400, title: 'Request is malformed' },
  HTTP_VALIDATION: { status: 400, title: 'Request failed schema validation' },
  HTTP_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  HTTP_PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large' },
  HTTP_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  HTTP_NOT_READY: { status: 503, title: 'Service not ready' },
  INTERNAL: { status: 500, title: 'Internal error' },

  // Domain: units, receipts, gates, stages (src/domain, src/application)
  DOMAIN_INVALID_UNIT_KEY: { status: 400, title: 'Invalid unit key' },
  DOMAIN_INVALID_PURL: { status: 400, title: 'Malformed package URL' },
  DOMAIN_PURL_TOO_LONG: { status: 400, title: 'Package URL exceeds the length limit' },
  DOMAIN_PURL_NO_VERSION: { status: 400, title: 'Package URL names no version' },
  DOMAIN_INVALID_OCI_DIGEST: { status: 400, title: 'OCI image version is not a digest' },
  DOMAIN_INVALID_RECEIPT: { status: 400, title: 'Invalid receipt' },
  DOMAIN_INVALID_GATE: { status: 400, title: 'Invalid gate definition' },
  DOMAIN_INVALID_GATE_SCHEMA: { status: 400, title: 'Invalid gate custom-section schema' },
  DOMAIN_INVALID_STAGE: { status: 400, title: 'Invalid stage definition' },
  DOMAIN_INVALID_COMMAND: { status: 400, title: 'Invalid command' },
  DOMAIN_UNKNOWN_GATE: { status: 400, title: 'Stage refers to an unknown gate' },
  DOMAIN_UNKNOWN_STAGE: { status: 400, title: 'Stage refers to an unknown prerequisite stage' },
  DOMAIN_STAGE_CYCLE: { status: 400, title: 'Stage prerequisites form a cycle' },
  DOMAIN_CUSTOM_SCHEMA_VIOLATION: {
    status: 422,
    title: "Receipt custom section violates its gate's schema",
  },
  DOMAIN_RECEIPT_NOT_FOUND: { status: 404, title: 'Receipt not found' },
  DOMAIN_RECEIPT_ALREADY_REVOKED: { status: 409, title: 'Receipt already revoked' },
  DOMAIN_RECEIPT_CONFLICT: { status: 409, title: 'Receipt id already used with different content' },
  DOMAIN_GATE_NOT_FOUND: { status: 404, title: 'Gate not found' },
  DOMAIN_STAGE_NOT_FOUND: { status: 404, title: 'Stage not found' },
  DOMAIN_UNIT_NOT_FOUND: { status: 404, title: 'Unit not found' },

  // Ingest (src/ingest): CloudEvents, CDEvents and JUnit input
  INGEST_BODY_TOO_LARGE: { status: 413, title: 'Request body exceeds the ingest limit' },
  INGEST_EVENT_TOO_LARGE: { status: 413, title: 'One event exceeds the per-event limit' },
  INGEST_BATCH_TOO_LARGE: { status: 413, title: 'Batch holds more events than allowed' },
  INGEST_TOO_DEEP: { status: 400, title: 'JSON nesting exceeds the depth limit' },
  INGEST_MALFORMED_JSON: { status: 400, title: 'Body is not well-formed JSON' },
  INGEST_BAD_ENCODING: { status: 400, title: 'Body is not valid UTF-8' },
  INGEST_MISSING_CONTENT_TYPE: { status: 415, title: 'Content type is missing' },
  INGEST_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Content type is not accepted here' },
  INGEST_FORBIDDEN_KEY: { status: 400, title: 'JSON contains a forbidden key' },
  INGEST_INLINE_BINARY: { status: 400, title: 'Inline binary data is not accepted' },
  INGEST_BATCH_NOT_ARRAY: { status: 400, title: 'Batch body is not a JSON array' },
  INGEST_INVALID_CLOUDEVENT: { status: 400, title: 'Not a valid CloudEvent' },
  INGEST_MISSING_ATTRIBUTE: { status: 400, title: 'Required CloudEvent attribute is missing' },
  INGEST_EMPTY_ATTRIBUTE: { status: 400, title: 'CloudEvent attribute is empty' },
  INGEST_BAD_SPECVERSION: { status: 400, title: 'CloudEvent specversion is not 1.0' },
  INGEST_BAD_TIME: { status: 400, title: 'CloudEvent time is not an RFC 3339 timestamp' },
  INGEST_TIME_IN_FUTURE: {
    status: 400,
    title: "A time the event claims lies ahead of the store's clock",
  },
  INGEST_BAD_EXTENSION_NAME: { status: 400, title: 'CloudEvent extension name is invalid' },
  INGEST_BAD_ATTRIBUTE: { status: 400, title: 'CloudEvent attribute value is malformed' },
  INGEST_INVALID_RECEIPT: { status: 422, title: 'Receipt data does not match its schema' },
  INGEST_CDEVENT_INVALID: { status: 422, title: 'CDEvent data is malformed' },
  INGEST_CDEVENT_NO_UNIT: { status: 422, title: 'No unit can be derived from the CDEvent' },
  INGEST_CHAIN_SOURCE_CONFLICT: {
    status: 409,
    title: 'CDEvents chain id already used by another source',
  },
  INGEST_JUNIT_MALFORMED: { status: 400, title: 'JUnit report is not well-formed XML' },
  INGEST_JUNIT_DTD_FORBIDDEN: { status: 400, title: 'JUnit report declares a DTD or entity' },
  INGEST_JUNIT_TOO_LARGE: { status: 413, title: 'JUnit report exceeds the size limit' },

  // Provenance: in-toto statements and their predicates (src/provenance)
  PROVENANCE_NOT_A_STATEMENT: { status: 400, title: 'Not an in-toto Statement v1' },
  PROVENANCE_UNKNOWN_PREDICATE_TYPE: { status: 422, title: 'Predicate type is not supported' },
  PROVENANCE_INVALID_PREDICATE: {
    status: 422,
    title: 'Predicate does not match its predicate type',
  },
  PROVENANCE_BAD_DIGEST: { status: 400, title: 'Digest is malformed or does not match' },
  PROVENANCE_NO_SUBJECT: { status: 422, title: 'Nothing to attest: the unit has no artifacts' },
  PROVENANCE_INVALID_INPUT: { status: 422, title: 'Input cannot be attested' },
  PROVENANCE_BUILDER_FAULT: { status: 500, title: 'Built statement fails its own schema' },

  // Signing (src/provenance/signing)
  SIGN_INVALID_KEY: { status: 400, title: 'Signing key is not an ECDSA P-256 private key' },
  SIGN_KEY_EXISTS: { status: 409, title: 'Key file exists (use --force to overwrite)' },
  SIGN_FAILED: { status: 502, title: 'Keyless signing service failed' },

  // Bundle verification (src/provenance/verify)
  VERIFY_BUNDLE_NOT_JSON: { status: 400, title: 'Bundle is not JSON' },
  VERIFY_NOT_A_BUNDLE: { status: 400, title: 'JSON is not a Sigstore bundle' },
  VERIFY_UNKNOWN_MEDIA_TYPE: { status: 400, title: 'Unsupported Sigstore bundle media type' },
  VERIFY_BAD_BASE64: { status: 400, title: 'Bundle field is not valid base64' },
  VERIFY_SIGNATURE_INVALID: { status: 422, title: 'Signature does not verify' },
  VERIFY_UNKNOWN_KEY: { status: 422, title: 'Signing key is not the expected key' },
  VERIFY_IDENTITY_MISMATCH: {
    status: 422,
    title: 'Certificate identity or issuer is not the expected one',
  },
  VERIFY_CERTIFICATE: { status: 422, title: 'Signing certificate does not chain to a trusted CA' },
  VERIFY_SUBJECT_MISMATCH: { status: 422, title: 'Signed subject does not match the artifact' },
  VERIFY_TRUST_MATERIAL: { status: 422, title: 'Trust material is missing or invalid' },
  VERIFY_TLOG: { status: 422, title: 'Transparency log entry does not verify' },
  VERIFY_TIMESTAMP: { status: 422, title: 'Signed timestamp does not verify' },
  VERIFY_UNSUPPORTED: { status: 422, title: 'Bundle feature not supported by this verifier' },

  // Read models and projections (src/readModels)
  READ_MODEL_INVALID: {
    status: 500,
    title: 'Read-model table or row does not match its declaration',
  },
  READ_MODEL_UNKNOWN_PROJECTION: { status: 404, title: 'No projection has this name' },
  READ_MODEL_PARKED_NOT_FOUND: { status: 404, title: 'No parked event has this id' },
  READ_MODEL_CLOSED: { status: 503, title: 'Read-model store is closed' },
  READ_MODEL_UNAVAILABLE: { status: 503, title: 'Read-model database unavailable' },
  READ_MODEL_RUNNER_RUNNING: {
    status: 409,
    title: 'A process runs the projections on these read models',
  },
  READ_MODEL_REBUILD_NOT_TAKEN: {
    status: 503,
    title: 'No projection runner has begun the requested rebuild',
  },

  // PostgreSQL adapters (src/postgres, src/eventStore/postgres, src/readModels/postgres)
  POSTGRES_SCHEMA_NEWER: {
    status: 500,
    title: 'PostgreSQL schema is newer than this Provenant',
  },

  // Attestations: issuing, reading, verifying (src/application/attestations)
  ATTEST_INVALID_REQUEST: { status: 400, title: 'Attestation request is incomplete' },
  ATTEST_NO_STAGE_VERDICT: { status: 409, title: 'The unit has no verdict for that stage' },
  ATTEST_NOT_FOUND: { status: 404, title: 'Attestation not found' },
  ATTEST_BUNDLE_NOT_RETAINED: {
    status: 404,
    title: 'The bundle was larger than the event limit and was not stored',
  },
  ATTEST_SIGNING_NOT_CONFIGURED: { status: 503, title: 'No signing key is configured' },
  VERIFY_BAD_ARTIFACT_DIGEST: { status: 400, title: 'Artifact digest is not sha256:<64 hex>' },
  VERIFY_NOT_IN_TOTO: { status: 422, title: 'Signed payload is not an in-toto statement' },
  VERIFY_PREDICATE_TYPE_MISMATCH: { status: 422, title: 'Predicate type is not the expected one' },
  VERIFY_BUILDER_MISMATCH: { status: 422, title: 'Builder id is not the expected one' },
  VERIFY_VERIFIER_MISMATCH: { status: 422, title: 'Verifier id is not the expected one' },
  VERIFY_VSA_NOT_PASSED: { status: 422, title: 'The VSA does not say PASSED' },
  VERIFY_RESOURCE_MISMATCH: { status: 422, title: 'The attestation is about another unit' },
  VERIFY_STAGE_MISMATCH: { status: 422, title: 'The VSA is about another stage' },
  VERIFY_POLICY_MISMATCH: {
    status: 422,
    title: "The VSA's policy is not the stage's current policy",
  },
  VERIFY_EVIDENCE_MISSING: { status: 422, title: 'A receipt the attestation relies on is missing' },
  VERIFY_EVIDENCE_REVOKED: { status: 422, title: 'A receipt the attestation relies on is revoked' },
  VERIFY_EVIDENCE_DIGEST_MISMATCH: {
    status: 422,
    title: "A receipt's digest differs from the one attested",
  },
  VERIFY_NO_ATTESTATION: { status: 404, title: 'No attestation of that kind for the unit' },
  VERIFY_STORE_UNREACHABLE: { status: 503, title: 'The store could not be asked' },
  VERIFY_LOG_CHECKPOINT_INVALID: {
    status: 422,
    title: 'The checkpoint is malformed or not signed by the log key',
  },
  VERIFY_LOG_NOT_INCLUDED: {
    status: 422,
    title: 'A receipt is not included under the signed checkpoint',
  },
  VERIFY_LOG_WRONG_LEAF: {
    status: 422,
    title: 'The leaf named for a receipt holds another event',
  },
  VERIFY_LOG_INCONSISTENT: {
    status: 422,
    title: "The log does not extend the attestation's checkpoint (rewritten since)",
  },
  VERIFY_LOG_NOT_RECORDED: {
    status: 422,
    title: 'The attestation names no checkpoint of the Merkle log',
  },
  VERIFY_LOG_UNAVAILABLE: { status: 503, title: 'The Merkle log cannot be read or checked here' },

  // Export and offline verification of a unit's evidence (src/application/export)
  EXPORT_TARGET_EXISTS: { status: 409, title: 'Export target exists and is not an empty folder' },
  EXPORT_UNREADABLE: { status: 400, title: 'Export is not a readable folder or .tar.gz archive' },
  EXPORT_MANIFEST_MISSING: { status: 422, title: 'Export has no manifest.json' },
  EXPORT_MANIFEST_INVALID: { status: 422, title: 'Export manifest is malformed' },
  EXPORT_FILE_MISSING: { status: 422, title: 'A file the export needs is missing' },
  EXPORT_EXTRA_FILE: { status: 422, title: 'Export holds a file its manifest does not list' },
  EXPORT_DIGEST_MISMATCH: {
    status: 422,
    title: "A file's digest or size differs from the manifest",
  },
  EXPORT_EVENT_INVALID: { status: 422, title: 'An exported event is malformed or misplaced' },
  EXPORT_CONTENT_DIGEST_MISMATCH: {
    status: 422,
    title: "An exported event's content does not match its digest",
  },
  EXPORT_CHAIN_BROKEN: {
    status: 422,
    title: 'Exported stream chain is broken (event missing, reordered or altered)',
  },
  EXPORT_KEY_MISSING: { status: 422, title: 'No exported key verifies an attestation' },
  EXPORT_KEY_INVALID: { status: 422, title: 'Exported key file is not the key it is named for' },
  EXPORT_ATTESTATION_INVALID: {
    status: 422,
    title: 'Exported attestation does not verify or is not the one issued',
  },
  EXPORT_EVIDENCE_MISSING: {
    status: 422,
    title: 'An attestation refers to evidence the export lacks or that differs',
  },
  EXPORT_EVIDENCE_REVOKED: {
    status: 422,
    title: 'An attestation relies on a receipt revoked later',
  },
  EXPORT_CHECKPOINT_INVALID: {
    status: 422,
    title: 'Exported checkpoint is malformed or its signature does not verify',
  },
  EXPORT_NOT_IN_LOG: {
    status: 422,
    title: 'An exported event is not included under the signed checkpoint',
  },
  EXPORT_LOG_INCONSISTENT: {
    status: 422,
    title: "The export's checkpoint does not extend the checkpoint an attestation recorded",
  },
  EXPORT_POLICY_MISMATCH: {
    status: 422,
    title: "A VSA's policy digest does not match the exported definitions",
  },

  // Queries (src/application/queries, src/http/routes/queries.ts)
  QUERY_BAD_CURSOR: { status: 400, title: 'Malformed or foreign page cursor' },
  QUERY_BAD_DIGEST: { status: 400, title: 'Digest is not <algorithm>:<hex value>' },
  QUERY_POSITION_BEYOND_HEAD: { status: 400, title: 'Position is beyond the head of the log' },
  QUERY_POSITION_TIMEOUT: { status: 503, title: 'Read models did not reach the position in time' },
  QUERY_READ_MODELS_UNAVAILABLE: { status: 503, title: 'Read models are not available here' },
  QUERY_RECEIPT_NOT_FOUND: { status: 404, title: 'No receipt has this id' },
  QUERY_BAD_AS_OF: { status: 400, title: 'asOf is neither an RFC 3339 time nor a position' },
  QUERY_AS_OF_IN_FUTURE: { status: 400, title: 'asOf lies in the future' },
  QUERY_BAD_RANGE: { status: 400, title: 'Range is malformed or from is after to' },
  QUERY_BAD_SINCE: {
    status: 400,
    title: 'updatedSince is neither an RFC 3339 time nor a position',
  },

  // Authentication and authorization (src/security, docs/security.md)
  AUTH_MISSING: { status: 401, title: 'Authentication required' },
  AUTH_MALFORMED: { status: 401, title: 'Authorization header is malformed' },
  AUTH_HEADER_TOO_LARGE: { status: 400, title: 'Authorization header is too large' },
  AUTH_TOKEN_IN_QUERY: { status: 400, title: 'Credentials are not accepted in the query string' },
  AUTH_TOKEN_UNKNOWN: { status: 401, title: 'Token is not recognised' },
  AUTH_TOKEN_INVALID: { status: 401, title: 'Token is not a well-formed JWT' },
  AUTH_TOKEN_EXPIRED: { status: 401, title: 'Token has expired' },
  AUTH_TOKEN_NOT_YET_VALID: { status: 401, title: 'Token is not yet valid' },
  AUTH_TOKEN_AUDIENCE: { status: 401, title: 'Token is for another audience' },
  AUTH_TOKEN_ISSUER: { status: 401, title: 'Token is from another issuer' },
  AUTH_TOKEN_CLAIMS: { status: 401, title: 'Token claims are missing or invalid' },
  AUTH_TOKEN_UNKNOWN_KEY: { status: 401, title: "Token's key is not in the issuer's key set" },
  AUTH_TOKEN_UNSIGNED: { status: 401, title: 'Unsigned token (alg none)' },
  AUTH_TOKEN_ALGORITHM: { status: 401, title: "Token's algorithm is not allowed" },
  AUTH_TOKEN_SIGNATURE: { status: 401, title: 'Token signature does not verify' },
  AUTH_ISSUER_UNAVAILABLE: { status: 503, title: "The OIDC issuer's keys cannot be fetched" },
  AUTH_CLIENT_CERT_INVALID: {
    status: 401,
    title: 'Client certificate does not chain to the trusted CA',
  },
  AUTH_CLIENT_CERT_UNKNOWN: { status: 401, title: 'Client certificate maps to no principal' },
  AUTH_FORBIDDEN: { status: 403, title: "The principal's roles do not allow this" },
  AUTH_PRODUCER_SCOPE: { status: 403, title: "The event is outside the producer's scope" },
  HTTP_FORWARDED_UNTRUSTED: {
    status: 400,
    title: 'X-Forwarded-* or Forwarded header from an untrusted peer',
  },
  // Input, secrets, limits and signed events (issue 15; docs/security.md)
  INGEST_DUPLICATE_KEY: { status: 400, title: 'JSON object names a member twice' },
  INGEST_LONE_SURROGATE: { status: 400, title: 'JSON string holds an unpaired surrogate' },
  INGEST_SECRET_DETECTED: { status: 400, title: 'Payload holds a secret' },
  INGEST_SIGNATURE_REQUIRED: { status: 400, title: 'Producer must sign its events' },
  INGEST_SIGNATURE_MALFORMED: { status: 400, title: 'Event verification material is malformed' },
  INGEST_SIGNATURE_UNKNOWN_KEY: {
    status: 422,
    title: 'Event is signed with a key not registered for its producer',
  },
  INGEST_SIGNATURE_INVALID: { status: 422, title: 'Event signature does not verify' },
  DOMAIN_UNSAFE_PATTERN: {
    status: 400,
    title: 'Schema pattern can take exponential time (catastrophic backtracking)',
  },
  HTTP_HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  HTTP_REQUEST_TIMEOUT: { status: 408, title: 'Request not received in time' },
  HTTP_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  HTTP_OVERLOADED: { status: 503, title: 'Server is busy; retry later' },
  PRODUCERS_INVALID: { status: 500, title: 'Producers file is invalid' },
  SIGN_EVENT_INVALID: { status: 400, title: 'Event cannot be signed' },
  // Transparency log: Merkle tree, checkpoints, proofs (src/transparency)
  TLOG_MALFORMED_NOTE: { status: 400, title: 'Signed note or checkpoint is malformed' },
  TLOG_BAD_KEY: { status: 400, title: 'Note key is malformed or not Ed25519' },
  TLOG_UNKNOWN_KEY: { status: 422, title: 'Checkpoint is not signed by a known key' },
  TLOG_BAD_SIGNATURE: { status: 422, title: 'Checkpoint signature does not verify' },
  TLOG_KEY_RETIRED: {
    status: 422,
    title: 'Note key does not sign this tree size: the log key was rotated',
  },
  TLOG_SIGNER_RUNNING: {
    status: 409,
    title: 'A checkpoint signer is running: stop it before rotating the note key',
  },
  TLOG_ORIGIN_MISMATCH: { status: 422, title: 'Checkpoint names another log' },
  TLOG_PROOF_RANGE: {
    status: 400,
    title: 'Proof request is outside the tree (size 0, beyond the tree, or from > to)',
  },
  TLOG_LEAF_NOT_FOUND: { status: 404, title: 'No leaf of the tree has this position or event' },
  TLOG_NO_CHECKPOINT: { status: 404, title: 'No checkpoint has been signed yet' },
  TLOG_NOT_AVAILABLE: { status: 503, title: 'The transparency log is not available here' },
  TLOG_INCONSISTENT: { status: 422, title: 'The log does not extend the checkpoint' },
  TLOG_LOG_MISMATCH: {
    status: 503,
    title:
      'The log does not hold the events the Merkle log recorded (truncated, restored from an older copy, or replaced): no checkpoint is signed',
  },
  TLOG_WITNESS_QUORUM: {
    status: 422,
    title: 'Fewer of the given witnesses than the quorum cosigned the checkpoint',
  },
  TLOG_BAD_QUORUM: {
    status: 400,
    title: 'Witness quorum is not a whole number from 1 to the number of witnesses given',
  },

  // Configuration and command line (src/cli, src/config.ts)
  CONFIG_INVALID: { status: 500, title: 'Invalid configuration' },
  BACKUP_TARGET_EXISTS: { status: 409, title: 'Backup target exists and is not an empty folder' },
  SERVER_CANNOT_LISTEN: {
    status: 500,
    title: 'The server cannot listen on the configured address',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof errorCodes;

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && Object.hasOwn(errorCodes, value);

export interface ProvenantErrorOptions {
  cause?: unknown;
  /** Machine-readable details, safe to show to the caller (never secrets). */
  details?: Record<string, unknown>;
}

/** Base of every error Provenant raises on purpose: a code from the registry, a message, a cause. */
export class ProvenantError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ProvenantErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProvenantError';
    this.code = code;
    this.details = options.details;
  }

  get status(): number {
    return errorCodes[this.code].status;
  }
}

export const isProvenantError = (error: unknown): error is ProvenantError =>
  error instanceof ProvenantError;
