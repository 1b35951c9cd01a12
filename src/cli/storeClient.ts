// What `provenant verify --store URL` asks a running Provenant: a unit's
// attestations and one bundle, a stage's current policy, a receipt's evidence.
// A network failure or an unexpected answer is a StoreUnreachable: the verifier
// could not check, which is not the same as invalid.
import type {
  AttestationSummary,
  ReceiptEvidence,
  StagePolicy,
  VerificationStore,
} from '../application/attestations/index.js';

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

export interface StoreClient extends VerificationStore {
  listAttestations(unit: string): Promise<AttestationSummary[]>;
  getBundle(attestationId: string): Promise<unknown>;
}

export function storeClient(baseUrl: string, token?: string): StoreClient {
  const base = baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  };
  async function get(path: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        headers,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new StoreUnreachable(
        `${base} cannot be reached${cause === undefined ? `: ${String(error)}` : ` (${cause})`}`,
        { cause: error },
      );
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
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
  return {
    async listAttestations(unit) {
      const body = (await get(`/v1/units/${encodeURIComponent(unit)}/attestations`)) as {
        attestations: AttestationSummary[];
      };
      return body.attestations;
    },
    getBundle: (attestationId) => get(`/v1/attestations/${encodeURIComponent(attestationId)}`),
    currentStagePolicy: (stageId) =>
      orUndefinedOn404<StagePolicy>(`/v1/stages/${encodeURIComponent(stageId)}/policy`),
    receiptEvidence: (receiptId) =>
      orUndefinedOn404<ReceiptEvidence>(`/v1/receipts/${encodeURIComponent(receiptId)}/evidence`),
  };
}
