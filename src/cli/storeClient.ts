// What `provenant verify --store URL` asks a running Provenant: a unit's
// attestations and one bundle, a stage's current policy, a receipt's evidence,
// and the Merkle log (an attestation's checkpoint, proofs, the stored events at
// leaves, the latest checkpoint; docs/transparency.md).
// A network failure or an unexpected answer is a StoreUnreachable: the verifier
// could not check, which is not the same as invalid.
import type {
  AttestationSummary,
  LogSource,
  ReceiptEvidence,
  StagePolicy,
  VerificationStore,
} from '../application/attestations/index.js';
import { AnswerTooLarge, boundedText } from '../boundedAnswer.js';
import { fromEventJson } from '../eventStore/eventJson.js';
import { readCheckpointUnverified } from '../transparency/note.js';

/** The store could not be asked, or answered something unexpected. */
export class StoreUnreachable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnreachable';
  }
}

/** A problem+json answer: the store's code and detail. */
export class StoreProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'StoreProblem';
  }
}

const TIMEOUT_MS = 15_000;
/** Far above any answer the CLI asks for (a unit's attestations, a bundle, evidence). */
const MAX_ANSWER_BYTES = 64 * 1024 ** 2;

/** An attestation as `GET /v1/attestations?digest=` lists it. */
export interface IndexedAttestation {
  attestationId: string;
  unit: string;
  kind: string;
  stage?: { stageId: string; passed: boolean };
}

export interface StoreClient extends VerificationStore {
  listAttestations(unit: string): Promise<AttestationSummary[]>;
  /** The newest VSA of `stageId` naming the sha256 digest among its subjects (the attestation index). */
  latestVsaByDigest(sha256: string, stageId: string): Promise<IndexedAttestation | undefined>;
  getBundle(attestationId: string): Promise<unknown>;
  /** The store's Merkle log, as `provenant verify` checks it. */
  log: LogSource;
}

interface InclusionAnswer {
  position: string;
  leafIndex: number;
  proof: string[];
}

export function storeClient(baseUrl: string, token?: string): StoreClient {
  const base = baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  };
  /** The answer's body: JSON parsed, or with `text` the text of a 2xx answer. */
  async function get(path: string, text?: 'text'): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        headers: text === undefined ? headers : { ...headers, accept: 'text/plain' },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      // fetch says only "fetch failed": why is in its cause (a system error's
      // code, or a message such as "bad port" for the ports fetch refuses).
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message;
      throw new StoreUnreachable(
        `${base} cannot be reached${why === undefined ? `: ${String(error)}` : ` (${why})`}`,
        { cause: error },
      );
    }
    let answer: string;
    try {
      answer = await boundedText(response, MAX_ANSWER_BYTES);
    } catch (error) {
      if (!(error instanceof AnswerTooLarge)) throw error;
      throw new StoreUnreachable(
        `${base}${path} answered ${response.status} with ${error.message}`,
      );
    }
    if (text !== undefined && response.ok) return answer;
    let body: unknown;
    try {
      body = JSON.parse(answer);
    } catch {
      throw new StoreUnreachable(
        `${base}${path} answered ${response.status} with something not JSON`,
      );
    }
    if (!response.ok) {
      const problem = body as { code?: unknown; detail?: unknown };
      if (typeof problem.code === 'string')
        throw new StoreProblem(
          response.status,
          problem.code,
          typeof problem.detail === 'string' ? problem.detail : '',
        );
      throw new StoreUnreachable(`${base}${path} answered ${response.status}`);
    }
    return body;
  }
  const orUndefinedOn404 = async <T>(path: string): Promise<T | undefined> => {
    try {
      return (await get(path)) as T;
    } catch (error) {
      if (error instanceof StoreProblem && error.status === 404) return undefined;
      if (error instanceof StoreProblem)
        throw new StoreUnreachable(`${base}${path}: ${error.code}: ${error.message}`);
      throw error;
    }
  };
  async function listAttestations(unit: string): Promise<AttestationSummary[]> {
    const body = (await get(`/v1/units/${encodeURIComponent(unit)}/attestations`)) as {
      attestations: AttestationSummary[];
    };
    return body.attestations;
  }
  async function latestVsaByDigest(
    sha256: string,
    stageId: string,
  ): Promise<IndexedAttestation | undefined> {
    const query = new URLSearchParams({
      digest: `sha256:${sha256}`,
      kind: 'vsa',
      stage: stageId,
      limit: '1',
    });
    const body = (await get(`/v1/attestations?${query.toString()}`)) as {
      items: IndexedAttestation[];
    };
    return body.items[0];
  }
  /** A 4xx problem as the reason for an answer that is not there; anything else is thrown. */
  const problemText = (error: unknown): string => {
    if (error instanceof StoreProblem && error.status < 500)
      return `${base} answers ${error.code}: ${error.message}`;
    throw error;
  };
  const log: LogSource = {
    name: 'the store',
    async anchor({ unit, statementDigest }) {
      if (unit === undefined)
        return 'the attestation names no unit to find its record by (give --unit)';
      let attestations;
      try {
        attestations = await listAttestations(unit);
      } catch (error) {
        return problemText(error);
      }
      const record = attestations.findLast((a) => a.statementDigest === statementDigest);
      if (record === undefined)
        return `the store holds no record of this attestation (statement sha256 ${statementDigest}) for unit ${unit}`;
      if (record.log === undefined)
        return `attestation ${record.attestationId} names no checkpoint (issued where the Merkle log was off, or before its first checkpoint)`;
      return {
        checkpoint: record.log.checkpoint,
        leaves: new Map(record.log.receipts.map((r) => [r.receiptId, r.leafIndex])),
      };
    },
    async verifierKey() {
      try {
        return ((await get('/v1/log/key')) as { verifierKey: string }).verifierKey;
      } catch (error) {
        if (error instanceof StoreProblem && error.code === 'TLOG_NOT_AVAILABLE') return undefined;
        throw error;
      }
    },
    async keyRotations() {
      const served = (await get('/v1/log/key')) as { rotations?: unknown };
      // A server from before key rotations serves none.
      const rotations = Array.isArray(served.rotations) ? (served.rotations as object[]) : [];
      return rotations.map((data, i) => ({
        data,
        source: `key rotation ${i + 1} of ${rotations.length} served at ${base}/v1/log/key`,
      }));
    },
    async inclusion(leafIndex, treeSize) {
      let answer;
      try {
        answer = (await get(
          `/v1/log/proof/inclusion?leafIndex=${leafIndex}&treeSize=${treeSize}`,
        )) as InclusionAnswer;
      } catch (error) {
        return problemText(error);
      }
      if (answer.leafIndex !== leafIndex)
        return `${base} answered with a proof of leaf ${answer.leafIndex}`;
      const position = BigInt(answer.position);
      let page;
      try {
        page = (await get(
          `/v1/events?limit=1${position === 0n ? '' : `&after=${position - 1n}`}`,
        )) as { events: unknown[] };
      } catch (error) {
        return problemText(error); // a position beyond its head: QUERY_POSITION_BEYOND_HEAD
      }
      const event = fromEventJson(page.events[0]);
      if (typeof event === 'string' || event.position !== position)
        return `${base} serves no event at position ${position}, the leaf's`;
      return { proof: answer.proof, event };
    },
    async latestConsistency(from) {
      const checkpoint = (await get('/v1/log/checkpoint', 'text')) as string;
      let size;
      try {
        size = readCheckpointUnverified(checkpoint).size;
      } catch {
        return { checkpoint, proof: [] }; // malformed: the caller's signature check says so
      }
      if (size <= from) return { checkpoint, proof: [] };
      const proof = (await get(`/v1/log/proof/consistency?from=${from}&to=${size}`)) as {
        proof: string[];
      };
      return { checkpoint, proof: proof.proof };
    },
  };
  return {
    listAttestations,
    latestVsaByDigest,
    log,
    getBundle: (attestationId) => get(`/v1/attestations/${encodeURIComponent(attestationId)}`),
    currentStagePolicy: (stageId) =>
      orUndefinedOn404<StagePolicy>(`/v1/stages/${encodeURIComponent(stageId)}/policy`),
    receiptEvidence: (receiptId) =>
      orUndefinedOn404<ReceiptEvidence>(`/v1/receipts/${encodeURIComponent(receiptId)}/evidence`),
  };
}
