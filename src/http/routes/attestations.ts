// Attestations over HTTP (issue 14): issue one for a unit on demand, list a
// unit's, download one as its Sigstore bundle or as an in-toto JSON Lines file
// (`.intoto.jsonl`: one DSSE envelope a line). Unit keys travel URL-encoded in
// one path segment (`/v1/units/openssl%2F3.2.1%2F2.el9%2Fx86_64%2Frpm/attestations`).
import type { FastifyInstance } from 'fastify';
import { normalizeUnitKey } from '../../domain/index.js';
import { ProvenantError } from '../../errors.js';
import type { RouteDeps } from '../deps.js';
import { problemResponse, unitKeyParams, validationErrors } from '../schemas.js';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: {
    id: {
      type: 'string',
      pattern: '^[0-7][0-9A-HJKMNP-TV-Z]{25}$',
      description: 'Attestation id (a ULID)',
    },
  },
} as const;

const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const openObject = { type: 'object', additionalProperties: true } as const;
const kinds = ['provenance', 'vsa', 'test-result'] as const;

const issueBodySchema = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  properties: {
    kind: { enum: kinds, description: 'What to attest' },
    stageId: { type: 'string', minLength: 1, maxLength: 100, description: 'VSA: the stage' },
    receiptId: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'Test result: the test receipt',
    },
  },
} as const;

const issuedSchema = {
  type: 'object',
  required: [
    'attestationId',
    'unit',
    'kind',
    'predicateType',
    'eventId',
    'position',
    'statementDigest',
    'bundleDigest',
    'bundleRetained',
    'duplicate',
    'bundle',
  ],
  properties: {
    attestationId: { type: 'string' },
    unit: { type: 'string' },
    kind: { enum: kinds },
    predicateType: { type: 'string' },
    eventId: { type: 'string' },
    position: { type: 'string' },
    statementDigest: sha256,
    bundleDigest: sha256,
    keyId: sha256,
    bundleRetained: {
      type: 'boolean',
      description:
        'False when the bundle would pass the event size limit and only its digest was stored',
    },
    duplicate: { type: 'boolean' },
    bundle: { ...openObject, description: 'The Sigstore bundle (v0.3)' },
  },
} as const;

const summarySchema = {
  type: 'object',
  required: [
    'attestationId',
    'unit',
    'kind',
    'predicateType',
    'statementDigest',
    'bundleDigest',
    'subjects',
    'receipts',
    'signer',
    'trigger',
    'bundleRetained',
    'eventId',
    'position',
    'recordedAt',
  ],
  properties: {
    attestationId: { type: 'string' },
    unit: { type: 'string' },
    kind: { enum: kinds },
    predicateType: { type: 'string' },
    statementDigest: sha256,
    bundleDigest: sha256,
    subjects: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          digest: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
    receipts: {
      type: 'array',
      items: {
        type: 'object',
        properties: { receiptId: { type: 'string' }, digest: sha256 },
      },
    },
    stage: {
      type: 'object',
      properties: {
        stageId: { type: 'string' },
        stageVersion: { type: 'integer' },
        passed: { type: 'boolean' },
        verdictEventId: { type: 'string' },
      },
    },
    receiptId: { type: 'string' },
    signer: openObject,
    trigger: openObject,
    log: {
      type: 'object',
      description:
        'Where its receipts are in the Merkle log: the latest signed checkpoint when issued (C2SP signed note) and the leaf index of each receipt under it',
      required: ['checkpoint', 'treeSize', 'receipts'],
      properties: {
        checkpoint: { type: 'string' },
        treeSize: { type: 'integer' },
        receipts: {
          type: 'array',
          items: {
            type: 'object',
            required: ['receiptId', 'leafIndex'],
            properties: { receiptId: { type: 'string' }, leafIndex: { type: 'integer' } },
          },
        },
      },
    },
    bundleRetained: { type: 'boolean' },
    eventId: { type: 'string' },
    position: { type: 'string' },
    recordedAt: { type: 'string' },
  },
} as const;

/** Reads `:key` as a unit key (DOMAIN_INVALID_UNIT_KEY when malformed). */
const unitOf = (key: string): string => normalizeUnitKey(key);

export function attestationRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { attestations } = deps;
  const keyErrors = validationErrors({ params: 'DOMAIN_INVALID_UNIT_KEY' });
  const idErrors = validationErrors({ params: 'ATTEST_NOT_FOUND' });

  app.post<{
    Params: { key: string };
    Body: { kind: (typeof kinds)[number]; stageId?: string; receiptId?: string };
  }>(
    '/v1/units/:key/attestations',
    {
      config: { permission: 'attest' },
      schemaErrorFormatter: keyErrors,
      schema: {
        tags: ['attestations'],
        summary: 'Issue an attestation for a unit',
        description:
          'Builds the statement from the unit stream (provenance: the receipt chain; vsa: the latest verdict ' +
          'of `stageId`; test-result: the test receipt `receiptId`), signs it as a DSSE envelope in a Sigstore ' +
          'bundle with the server key, and records `AttestationIssued.v1` in the unit stream. The bundle is ' +
          'stored in the event when it fits the event size limit (`bundleRetained`).',
        params: unitKeyParams,
        body: issueBodySchema,
        response: {
          201: issuedSchema,
          400: problemResponse(
            'Malformed key or body (DOMAIN_INVALID_UNIT_KEY, ATTEST_INVALID_REQUEST)',
          ),
          404: problemResponse(
            'Unknown unit or receipt (DOMAIN_UNIT_NOT_FOUND, DOMAIN_RECEIPT_NOT_FOUND)',
          ),
          409: problemResponse('The unit has no verdict for the stage (ATTEST_NO_STAGE_VERDICT)'),
          422: problemResponse(
            'Nothing to attest (PROVENANCE_NO_SUBJECT, PROVENANCE_INVALID_INPUT)',
          ),
          503: problemResponse('No signing key (ATTEST_SIGNING_NOT_CONFIGURED)'),
        },
      },
    },
    async (request, reply) => {
      const { kind, stageId, receiptId } = request.body;
      if (kind === 'vsa' && stageId === undefined)
        throw new ProvenantError('ATTEST_INVALID_REQUEST', 'A VSA request names its stageId');
      if (kind === 'test-result' && receiptId === undefined)
        throw new ProvenantError(
          'ATTEST_INVALID_REQUEST',
          'A test-result request names its receiptId',
        );
      const issued = await attestations.issueAttestation(
        unitOf(request.params.key),
        {
          kind,
          ...(stageId === undefined ? {} : { stageId }),
          ...(receiptId === undefined ? {} : { receiptId }),
        },
        request.principal === undefined ? {} : { requestedBy: request.principal.id },
      );
      return reply
        .code(201)
        .header('location', `/v1/attestations/${issued.attestationId}`)
        .send(issued);
    },
  );

  app.get<{ Params: { key: string } }>(
    '/v1/units/:key/attestations',
    {
      config: { permission: 'read' },
      schemaErrorFormatter: keyErrors,
      schema: {
        tags: ['attestations'],
        summary: "A unit's attestations, oldest first",
        params: unitKeyParams,
        response: {
          200: {
            type: 'object',
            required: ['unit', 'attestations'],
            properties: {
              unit: { type: 'string' },
              attestations: { type: 'array', items: summarySchema },
            },
          },
          400: problemResponse('Malformed unit key (DOMAIN_INVALID_UNIT_KEY)'),
          404: problemResponse('The unit has no receipts (DOMAIN_UNIT_NOT_FOUND)'),
        },
      },
    },
    async (request) => {
      const unit = unitOf(request.params.key);
      return { unit, attestations: await attestations.listAttestations(unit) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/attestations/:id',
    {
      config: { permission: 'read' },
      schemaErrorFormatter: idErrors,
      schema: {
        tags: ['attestations'],
        summary: 'An attestation as its Sigstore bundle (JSON)',
        params: idParams,
        response: {
          200: { ...openObject, description: 'The Sigstore bundle (v0.3)' },
          404: problemResponse(
            'Unknown attestation (ATTEST_NOT_FOUND), or its bundle was not stored (ATTEST_BUNDLE_NOT_RETAINED)',
          ),
        },
      },
    },
    async (request, reply) =>
      reply
        .type('application/json')
        .send(await attestations.getAttestationBundle(request.params.id)),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/attestations/:id/intoto.jsonl',
    {
      config: { permission: 'read' },
      schemaErrorFormatter: idErrors,
      schema: {
        tags: ['attestations'],
        summary: 'An attestation as in-toto JSON Lines: its DSSE envelope on one line',
        description:
          'Served as an attachment `<id>.intoto.jsonl` (content type `application/jsonl`).',
        params: idParams,
        response: {
          404: problemResponse(
            'Unknown attestation (ATTEST_NOT_FOUND), or its bundle was not stored (ATTEST_BUNDLE_NOT_RETAINED)',
          ),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const bundle = await attestations.getAttestationBundle(id);
      const envelope = bundle['dsseEnvelope'];
      if (typeof envelope !== 'object' || envelope === null)
        throw new ProvenantError('ATTEST_NOT_FOUND', `Attestation '${id}' has no DSSE envelope`);
      return reply
        .type('application/jsonl')
        .header('content-disposition', `attachment; filename="${id}.intoto.jsonl"`)
        .send(`${JSON.stringify(envelope)}\n`);
    },
  );
}
