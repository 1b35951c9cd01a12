// `GET /v1/attestations?digest=`: the attestations that name an artifact's
// digest among their subjects (read model attestation_subjects), newest first,
// filtered by kind, predicate type, stage or verdict, so that release tooling
// holding only the artifact finds its VSAs and provenance without knowing the
// unit. Each item links to the bundle (`GET /v1/attestations/{id}`).
import {
  attestationSubjectsTable,
  digestKey,
  type AttestationSubjectRow,
} from '../../../../projections/index.js';
import type { AttestationIssuedData, AttestationKind } from '../../../domain/events.js';
import { ProvenantError } from '../../../errors.js';
import type { Where } from '../../../readModels/port.js';
import { awaitPosition } from './position.js';
import type { Answer, PageRequest, ReadModelQueryDeps } from './queries.js';
import { scan, type Page } from './scan.js';

export interface AttestationFilter {
  /** `<algorithm>:<value>` (`sha256:9f86d0…`). */
  digest: string;
  kind?: AttestationKind;
  predicateType?: string;
  /** VSAs of this stage. */
  stageId?: string;
  /** VSAs with this verdict. */
  passed?: boolean;
}

export interface AttestationIndexView {
  attestationId: string;
  unit: string;
  kind: AttestationKind;
  predicateType: string;
  /** The subject that carries the digest. */
  subject: { name: string | null; digest: string };
  stage?: { stageId: string; passed: boolean };
  signer: AttestationIssuedData['signer'];
  eventId: string;
  position: string;
  recordedAt: string;
  /** Where its Sigstore bundle is served. */
  bundle: string;
}

/** `<algorithm>:<value>`: an in-toto digest entry (algorithm names as in-toto spells them). */
const DIGEST = /^([A-Za-z0-9_-]{1,32}):([0-9A-Fa-f]{8,256})$/;

/** The index's key of a digest query, or QUERY_BAD_DIGEST. */
export function parseDigest(value: string): string {
  const match = DIGEST.exec(value);
  if (match === null)
    throw new ProvenantError(
      'QUERY_BAD_DIGEST',
      `digest must be <algorithm>:<hex value> (sha256:9f86d081…), got '${value.slice(0, 100)}'`,
    );
  return digestKey(match[1] as string, match[2] as string);
}

const view = (row: AttestationSubjectRow): AttestationIndexView => ({
  attestationId: row.attestationId,
  unit: row.unit,
  kind: row.kind,
  predicateType: row.predicateType,
  subject: { name: row.subjectName, digest: row.digest },
  ...(row.stageId === null ? {} : { stage: { stageId: row.stageId, passed: row.passed === true } }),
  signer: row.signer,
  eventId: row.eventId,
  position: String(row.position),
  recordedAt: row.recordedAt,
  bundle: `/v1/attestations/${row.attestationId}`,
});

export function createAttestationQueries(deps: ReadModelQueryDeps) {
  return {
    /** `GET /v1/attestations?digest=`: newest first. */
    async attestationsByDigest(
      filter: AttestationFilter,
      page: PageRequest,
    ): Promise<Answer<Page<AttestationIndexView>>> {
      const digest = parseDigest(filter.digest);
      const position = await awaitPosition(deps, ['attestationIndex'], page.minPosition, deps);
      const where: Where<AttestationSubjectRow> = {
        digest,
        ...(filter.kind === undefined ? {} : { kind: filter.kind }),
        ...(filter.predicateType === undefined ? {} : { predicateType: filter.predicateType }),
        ...(filter.stageId === undefined ? {} : { stageId: filter.stageId }),
        ...(filter.passed === undefined ? {} : { passed: filter.passed }),
      };
      const result = await scan(deps.readModels, {
        query: 'attestations',
        table: attestationSubjectsTable,
        where,
        order: { direction: 'desc' },
        limit: page.limit,
        ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
        map: view,
      });
      return { ...result, position };
    },
  };
}

export type AttestationQueries = ReturnType<typeof createAttestationQueries>;
