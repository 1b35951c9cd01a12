// The query API's time travel through inject(): `asOf` folds a unit up to a
// position or time under the definitions of then, equals the read models' state at
// the same position, and the diff between two points; bad points refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  gateStatusTable,
  projections,
  stageStatusTable,
  unitSummaryTable,
} from '../../projections/index.js';
import type { DomainService } from '../../src/application/index.js';
import type { SQLiteEventStore } from '../../src/eventStore/sqlite/index.js';
import { getSQLiteReadModelStore } from '../../src/readModels/sqlite/index.js';
import { applyChanges } from '../../src/readModels/index.js';
import { unitStatusSchema } from '../../src/http/schemas.js';
import {
  A,
  B,
  closeQueryFixture,
  enc,
  openQueryFixture,
  problem,
  type QueryFixture,
} from '../support/queryFixture.js';

interface Schema {
  type?: string | readonly string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: boolean;
}

/** The paths in `value` that `schema` does not declare (an open object declares anything). */
function undeclared(value: unknown, schema: Schema, path = '$'): string[] {
  if (Array.isArray(value))
    return value.flatMap((v, i) => undeclared(v, schema.items ?? {}, `${path}[${i}]`));
  if (value === null || typeof value !== 'object' || schema.additionalProperties === true)
    return [];
  return Object.entries(value).flatMap(([key, v]) => {
    const declared = schema.properties?.[key];
    return declared === undefined ? [`${path}.${key}`] : undeclared(v, declared, `${path}.${key}`);
  });
}

describe('query API', () => {
  let store: SQLiteEventStore;
  let domain: DomainService;
  let app: FastifyInstance;
  let head: bigint;
  let ids: Record<string, string>;
  let positions: Record<string, bigint>;
  let fixture: QueryFixture;

  before(async () => {
    fixture = await openQueryFixture();
    ({ store, domain, app, head, ids, positions } = fixture);
  });
  after(() => closeQueryFixture(fixture));

  const get = (url: string) => app.inject({ method: 'GET', url });

  describe('time travel', () => {
    interface Status {
      revision: number;
      receipts: { receiptId: string; revoked?: unknown }[];
      gates: {
        gateId: string;
        recorded: { verdict: string } | null;
        current: { verdict: string } | null;
      }[];
      stages: { stageId: string; recorded: { passed: boolean } | null }[];
      asOf?: Record<string, string>;
    }
    const asOf = async (unit: string, point: string): Promise<Status> => {
      const res = await get(`/v1/units/${enc(unit)}?asOf=${enc(point)}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<Status>();
    };

    it('folds the unit up to a position, under the definitions of then', async () => {
      const early = await asOf(A, String(positions['aBuild']));
      assert.deepEqual(early.asOf, { position: String(positions['aBuild']) });
      assert.deepEqual(
        early.receipts.map((r) => r.receiptId),
        [ids['aBuild']],
      );
      const build = early.gates.find((g) => g.gateId === 'build');
      assert.equal(build?.current?.verdict, 'pending');
      const now = await asOf(A, String(head));
      const { asOf: _a, ...rest } = now;
      assert.deepEqual(rest, JSON.parse(JSON.stringify(await domain.getUnitStatus(A))));
      // B before its revocation: both receipts count.
      const b = await asOf(B, String(positions['bTest']));
      assert.equal(b.receipts.find((r) => r.receiptId === ids['bTest'])?.revoked, undefined);
      // Before the gates existed, nothing was evaluated.
      const definitionsLater = await store.readAll({ maxCount: 1 });
      assert.ok(definitionsLater.length === 1);
    });

    it('accepts an RFC 3339 time and refuses bad, future or pre-history points', async () => {
      const t = new Date(Date.now() - 1).toISOString();
      const byTime = await asOf(A, t);
      assert.deepEqual(byTime.asOf, { time: t });
      assert.equal(byTime.receipts.length, 2);
      problem(await get(`/v1/units/${enc(A)}?asOf=yesterday`), 400, 'QUERY_BAD_AS_OF');
      problem(await get(`/v1/units/${enc(A)}?asOf=2026-13-45T00:00:00Z`), 400, 'QUERY_BAD_AS_OF');
      problem(
        await get(`/v1/units/${enc(A)}?asOf=2999-01-01T00:00:00Z`),
        400,
        'QUERY_AS_OF_IN_FUTURE',
      );
      problem(await get(`/v1/units/${enc(A)}?asOf=${head + 10n}`), 400, 'QUERY_AS_OF_IN_FUTURE');
      problem(await get(`/v1/units/${enc(A)}?asOf=1`), 404, 'DOMAIN_UNIT_NOT_FOUND');
      problem(
        await get(`/v1/units/${enc(A)}?asOf=2000-01-01T00:00:00Z`),
        404,
        'DOMAIN_UNIT_NOT_FOUND',
      );
    });

    it('refuses a date or time that does not exist, and tells a + read as a space', async () => {
      for (const t of [
        '2026-02-30T00:00:00Z',
        '2025-02-29T00:00:00Z',
        '2026-04-31T00:00:00Z',
        '2026-01-01T24:00:00Z',
      ]) {
        const res = await get(`/v1/units/${enc(A)}?asOf=${enc(t)}`);
        problem(res, 400, 'QUERY_BAD_AS_OF');
        assert.match(res.json<{ detail: string }>().detail, /\(no such date or time\)$/, t);
      }
      // `+02:00` unencoded in the query reads as ` 02:00`.
      const plus = await get(`/v1/units/${enc(A)}?asOf=2026-01-01T00:00:00+02:00`);
      problem(plus, 400, 'QUERY_BAD_AS_OF');
      assert.match(plus.json<{ detail: string }>().detail, /write it %2B\)$/);
      // The same, encoded; a leap day; a leap second (as :59.999); a space for the T.
      const encoded = await get(`/v1/units/${enc(A)}?asOf=2026-01-01T02:00:00%2B02:00`);
      problem(encoded, 404, 'DOMAIN_UNIT_NOT_FOUND');
      assert.match(encoded.json<{ detail: string }>().detail, /as of 2026-01-01T00:00:00\.000Z$/);
      for (const [t, utc] of [
        ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
        ['2016-12-31T23:59:60Z', '2016-12-31T23:59:59.999Z'],
        ['2016-12-31 23:59:59Z', '2016-12-31T23:59:59.000Z'],
      ] as const) {
        const res = await get(`/v1/units/${enc(A)}?asOf=${enc(t)}`);
        problem(res, 404, 'DOMAIN_UNIT_NOT_FOUND');
        assert.ok(res.json<{ detail: string }>().detail.endsWith(`as of ${utc}`), res.body);
      }
    });

    it('equals the read models applied up to the same position', async () => {
      for (const point of [positions['aBuild'], positions['aTest'], positions['bTest'], head]) {
        const p = point as bigint;
        // The read models as of p: every projection applied to $all up to p.
        const then = getSQLiteReadModelStore({ path: ':memory:' });
        try {
          const events = (await store.readAll({ maxCount: 10_000 })).filter((e) => e.position <= p);
          for (const projection of projections) {
            await then.ensureProjection(projection);
            const handled = events.filter((e) => projection.canHandle.includes(e.type));
            const changes = handled.length === 0 ? [] : await projection.handle(handled, then);
            await then.transaction((tx) => applyChanges(tx, changes));
          }
          for (const unit of [A, B]) {
            const res = await get(`/v1/units/${enc(unit)}?asOf=${p}`);
            if (res.statusCode === 404) {
              assert.equal(await then.get(unitSummaryTable, { unit }), undefined);
              continue;
            }
            const status = res.json<Status>();
            const summary = await then.get(unitSummaryTable, { unit });
            assert.equal(summary?.receiptCount, status.receipts.length, `${unit}@${p}`);
            const gates = (await then.find(gateStatusTable, { unit })).rows;
            assert.deepEqual(
              Object.fromEntries(gates.map((g) => [g.gateId, g.verdict])),
              Object.fromEntries(
                status.gates
                  .filter((g) => g.recorded !== null)
                  .map((g) => [g.gateId, g.recorded?.verdict]),
              ),
              `gates of ${unit}@${p}`,
            );
            const stages = (await then.find(stageStatusTable, { unit })).rows;
            assert.deepEqual(
              Object.fromEntries(stages.map((s) => [s.stageId, s.passed])),
              Object.fromEntries(
                status.stages
                  .filter((s) => s.recorded !== null)
                  .map((s) => [s.stageId, s.recorded?.passed]),
              ),
              `stages of ${unit}@${p}`,
            );
          }
        } finally {
          await then.close();
        }
      }
    });

    it('answers with JSON the response schema declares (the route writes it with JSON.stringify)', async () => {
      const asOfSchema: Schema = {
        ...unitStatusSchema,
        properties: { ...unitStatusSchema.properties, asOf: { properties: { position: {} } } },
      };
      for (const url of [
        `/v1/units/${enc(A)}?asOf=${head}`,
        `/v1/units/${enc(B)}?asOf=${head}`,
        `/v1/units/${enc(B)}`,
      ]) {
        const res = await get(url);
        assert.equal(res.statusCode, 200, res.body);
        assert.match(res.headers['content-type'] as string, /^application\/json/);
        const body = res.json<Status>();
        assert.ok(body.receipts.length > 0 && body.gates.length > 0, url);
        assert.deepEqual(undeclared(body, asOfSchema), [], url);
      }
      // B's revoked receipt carries its revocation, as the schema declares it.
      const b = (await get(`/v1/units/${enc(B)}?asOf=${head}`)).json<Status>();
      assert.ok(b.receipts.some((r) => r.revoked !== undefined));
    });

    it('diffs the verdict changes between two points', async () => {
      const res = await get(`/v1/units/${enc(A)}/diff`);
      assert.equal(res.statusCode, 200, res.body);
      const all = res.json<{
        changes: { gateId?: string; stageId?: string; before: string | null; after: string }[];
      }>();
      assert.deepEqual(
        all.changes.map((c) => [c.gateId ?? c.stageId, c.before, c.after]),
        [
          ['build', 'pending', 'passed'],
          ['ship', 'not-passed', 'passed'],
        ],
      );
      assert.ok(all.changes.some((c) => c.gateId === 'build' && c.after === 'passed'));
      const later = await get(`/v1/units/${enc(A)}/diff?from=${positions['bBuild']}&to=${head}`);
      assert.deepEqual(later.json<{ changes: unknown[] }>().changes, []);
      const b = (await get(`/v1/units/${enc(B)}/diff?from=${positions['bTest']}`)).json<{
        changes: { gateId?: string; before: string | null; after: string }[];
      }>();
      assert.ok(b.changes.every((c) => c.before !== c.after));
      // `to` alone, as a time: from the start of the log, as `to` alone as a position.
      const until = (await get(`/v1/units/${enc(A)}/diff?to=${new Date().toISOString()}`)).json<{
        from: unknown;
        changes: unknown[];
      }>();
      assert.deepEqual(until.from, { time: '1970-01-01T00:00:00.000Z' });
      assert.deepEqual(until.changes, all.changes);
      problem(await get(`/v1/units/${enc(A)}/diff?from=10&to=5`), 400, 'QUERY_BAD_RANGE');
      problem(
        await get(`/v1/units/${enc(A)}/diff?from=5&to=2026-01-01T00:00:00Z`),
        400,
        'QUERY_BAD_RANGE',
      );
      problem(await get(`/v1/units/${enc(A)}/diff?from=soon`), 400, 'QUERY_BAD_RANGE');
      problem(await get(`/v1/units/${enc('x/1/1/noarch/rpm')}/diff`), 404, 'DOMAIN_UNIT_NOT_FOUND');
    });
  });
});
