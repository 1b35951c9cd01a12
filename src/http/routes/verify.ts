// Verification over HTTP (issue 14): POST /v1/verify checks a bundle against a
// signer policy and expectations, with this store as the source of the current
// stage policies and of the receipts' evidence, and its own Merkle log as that of
// the log checks (application/attestations/ownLog.ts); GET /v1/stages/{id}/policy gives
// a stage's current policy exactly as the VSA builder computes it, and
// GET /v1/receipts/{id}/evidence a receipt's digest and revocation, so that a
// verifier elsewhere (`provenant verify --store URL`) can make the same checks.
import type { FastifyInstance } from 'fastify';
import type { SignerPolicy } from '../../provenance/verify/index.js';
import { ProvenantError } from '../../errors.js';
import type { RouteDeps } from '../deps.js';
import { useGuardedJson } from '../jsonBody.js';
import { problemResponse, validationErrors } from '../schemas.js';

const kinds = ['provenance', 'vsa', 'test-result'] as const;

interface VerifyBody {
  bundle: unknown;
  key?: string;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  expected?: {
    kind?: (typeof kinds)[number];
    unit?: string;
    stageId?: string;
    artifactDigest?: string;
    builderId?: string;
    verifierId?: string;
  };
}

const verifyBodySchema = {
  type: 'object',
  required: ['bundle'],
  additionalProperties: false,
  properties: {
    bundle: {
      description: 'The Sigstore bundle: its JSON, or that JSON as a string',
      anyOf: [{ type: 'object' }, { type: 'string' }],
    },
    key: {
      type: 'string',
      description: "Public key (PEM) the bundle must be signed with; default: this server's key",
    },
    certificateIdentity: { type: 'string', description: 'Keyless: expected certificate identity' },
    certificateOidcIssuer: { type: 'string', description: 'Keyless: expected OIDC issuer' },
    expected: {
      type: 'object',
      additionalProperties: false,
      properties: {
        kind: { enum: kinds },
        unit: { type: 'string' },
        stageId: { type: 'string' },
        artifactDigest: { type: 'string', description: '`sha256:<64 hex>`: must be a subject' },
        builderId: { type: 'string' },
        verifierId: { type: 'string' },
      },
    },
  },
} as const;

const checkSchema = {
  type: 'object',
  required: ['name', 'ok', 'outcome', 'message'],
  properties: {
    name: { type: 'string' },
    ok: { type: 'boolean' },
    outcome: { enum: ['passed', 'failed', 'could-not-check'] },
    code: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

const reportSchema = {
  type: 'object',
  required: ['result', 'checks'],
  properties: {
    result: { enum: ['valid', 'invalid', 'could-not-check'] },
    checks: { type: 'array', items: checkSchema },
    notes: {
      type: 'array',
      items: { type: 'string' },
      description: 'What was not checked and why (e.g. an attestation that names no checkpoint)',
    },
    signer: { type: 'object', additionalProperties: true },
    statement: { type: 'object', additionalProperties: true },
  },
} as const;

const policySchema = {
  type: 'object',
  required: ['stageId', 'stageVersion', 'enabled', 'uri', 'digest', 'gates'],
  properties: {
    stageId: { type: 'string' },
    stageVersion: { type: 'integer' },
    enabled: { type: 'boolean' },
    uri: { type: 'string' },
    digest: { type: 'string', description: 'Hex SHA-256: the VSA `policy.digest.sha256`' },
    gates: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          gateId: { type: 'string' },
          gateVersion: { type: 'integer' },
          definitionDigest: { type: 'string' },
        },
      },
    },
  },
} as const;

const evidenceSchema = {
  type: 'object',
  required: ['receiptId', 'unit', 'eventId', 'position', 'digest'],
  properties: {
    receiptId: { type: 'string' },
    unit: { type: 'string' },
    eventId: { type: 'string' },
    position: { type: 'string' },
    digest: { type: 'string' },
    revoked: {
      type: 'object',
      properties: {
        reason: { type: 'string' },
        revokedBy: { type: 'string' },
        eventId: { type: 'string' },
      },
    },
  },
} as const;

export function verifyRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { attestations } = deps;
  // Bundles carry their payload and signature in base64: this scope's JSON parser
  // keeps every other guard but lets long base64 strings through.
  useGuardedJson(app, { maxInlineBinaryChars: Number.MAX_SAFE_INTEGER });

  app.post<{ Body: VerifyBody }>(
    '/v1/verify',
    {
      config: { permission: 'verify' },
      schemaErrorFormatter: validationErrors(),
      schema: {
        tags: ['attestations'],
        summary: 'Verify an attestation bundle',
        description:
          'Checks the signature and signer (`key`, else `certificateIdentity` + `certificateOidcIssuer`, else ' +
          "this server's key), the signed in-toto statement, the expectations (artifact digest among the subjects, " +
          'predicate type of `kind`, builder / verifier id, for a VSA: PASSED, unit and stage), and against this store: ' +
          "a VSA's policy is the stage's current one, and every receipt relied on is in the log, unrevoked, with the " +
          'attested digest. Where this server holds the Merkle log, the receipts relied on are checked in it as ' +
          '`provenant verify --store` checks them (`log-checkpoint`, `log-inclusion`, `log-consistency`; ' +
          'docs/transparency.md), with its own note key: the server checks its own log, so a caller who does not ' +
          'trust it runs `provenant verify --store URL --log-key FILE` with a key it holds. Without the Merkle log, ' +
          'or for an attestation that names no checkpoint, `notes` says so. ' +
          'Returns the report (200) whatever the verdict: `result` is valid, invalid or could-not-check.',
        body: verifyBodySchema,
        response: {
          200: reportSchema,
          400: problemResponse('Malformed request (HTTP_VALIDATION, VERIFY_BAD_ARTIFACT_DIGEST)'),
        },
      },
    },
    async (request) => {
      const {
        bundle,
        key,
        certificateIdentity,
        certificateOidcIssuer,
        expected = {},
      } = request.body;
      let policy: SignerPolicy;
      if (key !== undefined) policy = { publicKey: key };
      else if (certificateIdentity !== undefined && certificateOidcIssuer !== undefined)
        policy = { certificateIdentity, certificateIssuer: certificateOidcIssuer };
      else if (attestations.publicKeyPem !== undefined)
        policy = { publicKey: attestations.publicKeyPem };
      else
        throw new ProvenantError(
          'HTTP_VALIDATION',
          'Give key, or certificateIdentity and certificateOidcIssuer (this server has no key of its own)',
        );
      const { artifactDigest, ...expectations } = expected;
      return attestations.verify({
        bundle,
        policy,
        ...(artifactDigest === undefined ? {} : { artifact: artifactDigest }),
        expected: expectations,
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/stages/:id/policy',
    {
      config: { permission: 'read' },
      schemaErrorFormatter: validationErrors({ params: 'DOMAIN_STAGE_NOT_FOUND' }),
      schema: {
        tags: ['attestations'],
        summary: "A stage's current policy, as a VSA names it",
        description:
          'The policy URI and digest a VSA of this stage would carry if issued now: the current stage version and ' +
          'its enabled gates at their current versions (docs/provenance.md, "Policy digest"). Release tooling ' +
          "compares a VSA's `policy` with it.",
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
        },
        response: {
          200: policySchema,
          404: problemResponse('No such stage (DOMAIN_STAGE_NOT_FOUND)'),
        },
      },
    },
    async (request) => attestations.currentStagePolicy(request.params.id),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/receipts/:id/evidence',
    {
      config: { permission: 'read' },
      schemaErrorFormatter: validationErrors({ params: 'DOMAIN_RECEIPT_NOT_FOUND' }),
      schema: {
        tags: ['attestations'],
        summary: 'A receipt as evidence: its canonical digest and whether it was revoked',
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: {
          200: evidenceSchema,
          404: problemResponse('No such receipt (DOMAIN_RECEIPT_NOT_FOUND)'),
        },
      },
    },
    async (request) => {
      const evidence = await attestations.receiptEvidence(request.params.id);
      if (evidence === undefined)
        throw new ProvenantError(
          'DOMAIN_RECEIPT_NOT_FOUND',
          `Receipt '${request.params.id}' does not exist`,
        );
      return evidence;
    },
  );
}
