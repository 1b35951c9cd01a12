// PostgreSQL for tests: the suites run against the real server named by
// PROVENANT_TEST_POSTGRES_URL (`.ci/run` sets it), each file in a schema of its
// own that is dropped afterwards. Without the variable, the suites are reported
// as skipped, with the reason, never as passed.
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';

export const postgresUrl: string | undefined =
  process.env.PROVENANT_TEST_POSTGRES_URL === ''
    ? undefined
    : process.env.PROVENANT_TEST_POSTGRES_URL;

export const SKIP_REASON =
  'PROVENANT_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)';

/** Registers a visibly skipped suite when there is no server; returns the URL otherwise. */
export function requirePostgres(suite: string): string | undefined {
  if (postgresUrl !== undefined) return postgresUrl;
  console.log(`# ${suite} skipped: ${SKIP_REASON}`);
  describe(suite, { skip: SKIP_REASON }, () => {
    it('runs against a live PostgreSQL server');
  });
  return undefined;
}

/** A fresh schema name, dropped (with everything in it) when the test file ends. */
export function testSchema(url: string, label: string): string {
  const schema = `pvt_${label}_${randomBytes(5).toString('hex')}`;
  after(() => dropSchema(url, schema));
  return schema;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs one statement on its own connection, in `schema`. */
export async function sql(url: string, schema: string, text: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}
