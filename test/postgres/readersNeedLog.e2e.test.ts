// On PostgreSQL, the commands that read the log refuse a schema without one
// (STORE_NOT_FOUND, exit 2) and create nothing in it: with a mistyped
// PROVENANT_POSTGRES_SCHEMA, `log verify` created the schema and its tables and
// answered "ok: 0 events verified" with exit 0. Where the log is, they read it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { getPostgresEventStore } from '../../src/eventStore/postgres/index.js';
import { runCli } from '../support/cli.js';
import { requirePostgres, testSchema } from '../support/postgres.js';

const url = requirePostgres('PostgreSQL: commands that read a log that is not there');

async function schemaExists(connectionString: string, schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT 1 FROM information_schema.schemata WHERE schema_name = $1',
      [schema],
    );
    return rows.length > 0;
  } finally {
    await client.end();
  }
}

if (url !== undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-pg-readers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('PostgreSQL: commands that read a log that is not there', () => {
    it('refuse a schema without a log, create nothing, and read one that has it', async () => {
      const schema = testSchema(url, 'readers');
      const env = {
        PROVENANT_STORE: 'postgres',
        PROVENANT_POSTGRES_URL: url,
        PROVENANT_POSTGRES_SCHEMA: schema,
        PROVENANT_DATA_DIR: join(dir, 'data'),
      };
      const commands = [
        ['log', 'verify'],
        ['log', 'prove', '01M99A9AFRP2XQT3721W4JW7G3'],
        ['replay', 'zlib/1.3/1.el9/x86_64/rpm'],
        ['projections', 'status'],
      ];
      for (const args of commands) {
        const run = await runCli(args, 60_000, env);
        assert.equal(run.status, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
        assert.match(
          run.stderr,
          new RegExp(`STORE_NOT_FOUND: no log in the PostgreSQL schema ${schema}`),
        );
      }
      assert.equal(await schemaExists(url, schema), false, 'the schema was not created');

      const store = getPostgresEventStore({ connectionString: url, schema });
      await store.append('unit-zlib', [{ type: 'Noted.v1', data: { n: 1 } }]);
      await store.close();
      const verified = await runCli(['log', 'verify'], 60_000, env);
      assert.equal(verified.status, 0, verified.stderr);
      assert.match(verified.stdout, /^ok: 1 event verified/);
    });
  });
}
