/**
 * The PostgreSQL the tests and benches use when one is running: 127.0.0.1:5432, database `test`, as PGUSER or
 * the operating system's user (libpq's default). Suites that need it skip, saying why, when it is not reachable.
 */
import { userInfo } from 'node:os';
import pg from 'pg';

/** The test database, without a schema: stores add `?schema=...` to keep each run apart. */
export const TEST_POSTGRES_URL = `postgres://${process.env.PGUSER ?? userInfo().username}@127.0.0.1:5432/test`;

/** Whether a client can connect to `url` within two seconds. */
export async function postgresReachable(url = TEST_POSTGRES_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: withUser(url), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Drop `schema` and all in it, through a client of its own (stores have no "drop" and should not get one). Quiet
 * when the server is unreachable: nothing was created there.
 */
export async function dropSchema(schema: string, url = TEST_POSTGRES_URL): Promise<void> {
  const client = new pg.Client({ connectionString: withUser(url), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } catch {
    // Unreachable: nothing to drop.
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `url` with the user libpq would default to when it names none. */
function withUser(url: string): string {
  const parsed = new URL(url);
  if (!parsed.username) parsed.username = process.env.PGUSER ?? userInfo().username;
  return parsed.toString();
}
