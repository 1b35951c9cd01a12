// Who calls Provenant in `npm run demo` (scripts/demo.ts), over HTTP, as
// docs/security.md sets them up: an admin who defines gates, issues attestations,
// reads and exports, and a CI job whose producer token may only record receipts
// from its own source. Here are their tokens, the requests they send (the CI's
// pipeline on a unit: build, unit-test, sast) and the unit's status and
// attestations as they read them back.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStaticToken } from '../src/security/index.js';

export const OPENSSL = 'openssl/3.2.1/2.el9/x86_64/rpm';
export const ZLIB = 'zlib/1.3.1/1.el9/x86_64/rpm';
const digestOf = (seed: string): string =>
  Buffer.from(seed.padEnd(32, '.').slice(0, 32)).toString('hex');
/** The sha256 of the rpm the pipeline builds for `unit`. */
export const rpmDigest = (unit: string): string => digestOf(`${unit}#rpm`);

/** The callers' tokens, and the principals file that configures them. */
export interface Principals {
  authFile: string;
  /** Headers of the admin's requests. */
  asAdmin: { authorization: string };
  /** The CI job's authorization header. */
  ciAuthorization: string;
}

/**
 * Makes the admin's and the CI's tokens and writes `principals.json` in `dir`.
 * Configuration keeps only the tokens' SHA-256, as `provenant tokens create`
 * prints it.
 */
export function writePrincipals(dir: string): Principals {
  const adminToken = createStaticToken();
  const ciToken = createStaticToken();
  const authFile = join(dir, 'principals.json');
  writeFileSync(
    authFile,
    JSON.stringify({
      tokens: [
        { name: 'release-admin', sha256: adminToken.sha256, roles: ['admin'] },
        {
          name: 'ci-el9',
          sha256: ciToken.sha256,
          roles: ['producer'],
          scope: { sources: ['https://ci.example.com/*'], types: ['dev.provenant.receipt.v1'] },
        },
      ],
    }),
  );
  return {
    authFile,
    asAdmin: { authorization: `Bearer ${adminToken.token}` },
    ciAuthorization: `Bearer ${ciToken.token}`,
  };
}

export interface AttestationSummary {
  attestationId: string;
  kind: string;
  stage?: { stageId: string; passed: boolean };
  /** Its event's log position. */
  position: string;
}

export interface StatusView {
  stages: { stageId: string; current: { passed?: boolean; verdict?: string } | null }[];
  gates: { gateId: string; current: { verdict: string } | null }[];
}
export const stagePassed = (view: StatusView, stageId: string): boolean =>
  view.stages.find((s) => s.stageId === stageId)?.current?.passed === true;
export const gateVerdict = (view: StatusView, gateId: string): string =>
  view.gates.find((g) => g.gateId === gateId)?.current?.verdict ?? 'none';

/** The callers' requests to the server at `url`. */
export function demoClient(url: string, { asAdmin, ciAuthorization }: Principals) {
  async function api(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<unknown> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...asAdmin,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }

  let eventCounter = 0;
  /** Sends one receipt as a CloudEvent (structured mode), as a CI job would. */
  async function receipt(
    unit: string,
    action: string,
    multipass: boolean,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const response = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json',
        authorization: ciAuthorization,
      },
      body: JSON.stringify({
        specversion: '1.0',
        id: `job-${++eventCounter}`,
        source: 'https://ci.example.com/pipelines/el9',
        type: 'dev.provenant.receipt.v1',
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        data: { unit, action, multipass, producer: 'https://ci.example.com', ...extra },
      }),
    });
    if (response.status !== 201)
      throw new Error(`receipt ${action}: ${response.status} ${await response.text()}`);
  }

  const attestationsOf = async (unit: string): Promise<AttestationSummary[]> =>
    (
      (await api('GET', `/v1/units/${encodeURIComponent(unit)}/attestations`)) as {
        attestations: AttestationSummary[];
      }
    ).attestations;
  /** The unit's latest release VSA, once the store has issued it. */
  const releaseVsa = async (unit: string): Promise<AttestationSummary | undefined> =>
    (await attestationsOf(unit)).findLast(
      (a) => a.kind === 'vsa' && a.stage?.stageId === 'release',
    );

  const status = async (unit: string): Promise<StatusView> =>
    (await api('GET', `/v1/units/${encodeURIComponent(unit)}`)) as StatusView;

  async function pipeline(unit: string, sastPasses: boolean): Promise<void> {
    const [name = '', version = ''] = unit.split('/');
    await receipt(unit, 'build', true, {
      correlationId: `${name}-run-1`,
      artifacts: [
        {
          name: `${name}-${version}.rpm`,
          uri: `https://repo.example.com/el9/${name}-${version}.rpm`,
          digest: { sha256: rpmDigest(unit) },
        },
      ],
      custom: {
        source: {
          repository: `https://git.example.com/${name}.git`,
          commit: digestOf(name).slice(0, 40),
          ref: 'refs/heads/main',
        },
      },
    });
    await receipt(unit, 'unit-test', true, {
      correlationId: `${name}-run-1`,
      results: { passed: 412, failed: 0 },
    });
    await receipt(unit, 'sast', sastPasses, {
      correlationId: `${name}-run-1`,
      results: { findings: sastPasses ? 0 : 2 },
    });
  }

  return { api, receipt, attestationsOf, releaseVsa, status, pipeline };
}
