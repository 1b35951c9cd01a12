// The management API's tests (test/http/management*.int.test.ts): an app on a
// fresh in-memory store for each suite (gates apply to every unit, so one suite's
// definitions must not leak into another's verdicts), the bodies it answers, and
// the checks of a rejection (RFC 9457 problem+json, nothing appended).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createDomainService, type DomainService } from '../../src/application/index.js';
import type { ReceiptInput } from '../../src/domain/index.js';
import { getSQLiteEventStore, type SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { buildApp } from '../../src/http/app.js';
import { anonymousAuth } from '../../src/security/index.js';

export const UNIT = 'openssl/3.2.1/2.el9/x86_64/rpm';
export const ENCODED = encodeURIComponent(UNIT);
export const SHA = 'ab'.repeat(32);

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  details?: Record<string, unknown>;
}

export interface GateBody {
  gateId: string;
  version: number;
  enabled: boolean;
  requiredActions: string[];
  disabledReason?: string;
  customSchema?: Record<string, unknown>;
  [key: string]: unknown;
}
export interface StageBody {
  stageId: string;
  version: number;
  enabled: boolean;
  gates: string[];
  prerequisites: string[];
  disabledReason?: string;
}
export interface Verdict {
  type: string;
  verdict: string;
  gateId?: string;
  stageId?: string;
  receiptIds: string[];
  position: string;
}
export interface StatusBody {
  unit: string;
  revision: number;
  receipts: { receiptId: string; counted: boolean; revoked?: { reason: string } }[];
  gates: {
    gateId: string;
    recorded: { verdict: string } | null;
    current: { verdict: string } | null;
    upToDate: boolean;
  }[];
  stages: {
    stageId: string;
    recorded: { passed: boolean } | null;
    current: { passed: boolean } | null;
    upToDate: boolean;
  }[];
}

/** Asserts an RFC 9457 problem with `status` and `code`, and returns it. */
export function assertProblem(
  res: LightMyRequestResponse,
  status: number,
  code: string,
): ProblemBody {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json<ProblemBody>();
  assert.equal(body.code, code, body.detail);
  assert.equal(body.status, status);
  assert.equal(body.type, `urn:provenant:problem:${code.toLowerCase().replaceAll('_', '-')}`);
  assert.ok(body.title.length > 0 && body.detail.length > 0);
  return body;
}

/** What a JSON round trip of a domain value looks like (the HTTP body must equal it). */
export const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

export const receipt = (action: string, multipass: boolean, extra: Partial<ReceiptInput> = {}) => ({
  unit: UNIT,
  action,
  multipass,
  ...extra,
});

export interface ManagementApp {
  store: SQLiteEventStore;
  domain: DomainService;
  app: FastifyInstance;
}

/**
 * An app on its own empty in-memory store, with the real domain service or
 * what `wrap` makes of it. The caller closes `app`.
 */
export async function openManagementApp(
  wrap: (real: DomainService) => DomainService = (real) => real,
): Promise<ManagementApp> {
  const store = getSQLiteEventStore({ path: ':memory:' });
  const domain = wrap(createDomainService({ eventStore: store }));
  const app = await buildApp({
    auth: anonymousAuth(),
    store,
    domain,
    storeDescription: 'sqlite :memory:',
    ownsStore: true,
  });
  return { store, domain, app };
}

/** Runs `request` on `app` and asserts that it is refused and the log did not grow. */
export async function rejectedBy(
  { app, store }: Pick<ManagementApp, 'app' | 'store'>,
  request: InjectOptions | string,
  status: number,
  code: string,
): Promise<ProblemBody> {
  const head = await store.headPosition();
  const res = await app.inject(request);
  const problem = assertProblem(res, status, code);
  assert.equal(await store.headPosition(), head, 'a rejected request appends nothing');
  return problem;
}

/**
 * Opens the suite's own app (openManagementApp) before its tests and closes it
 * after; `onOpen` hands it to the suite's variables. Returns `rejected`, which
 * runs a request on it and asserts the refusal and that the log did not grow.
 */
export function useManagementApp(onOpen: (opened: ManagementApp) => void): {
  rejected: (request: InjectOptions | string, status: number, code: string) => Promise<ProblemBody>;
} {
  let opened: ManagementApp | undefined;
  before(async () => {
    opened = await openManagementApp();
    onOpen(opened);
  });
  after(() => opened?.app.close());
  return {
    rejected: (request, status, code) => {
      assert.ok(opened, 'the suite opens its app before its tests');
      return rejectedBy(opened, request, status, code);
    },
  };
}
