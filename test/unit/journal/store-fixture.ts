/** Shared by the store-*.test.ts files: records as the runner stores them; the same tests on every store. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, before, after, describe } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { isSwitchboardError } from '../../../src/errors.ts';
import { PostgresStore } from '../../../src/journal/postgres.ts';
import { encodeRecord, type JournalRecord } from '../../../src/journal/records.ts';
import { SqliteStore } from '../../../src/journal/sqlite.ts';
import type { JournalStore, StoredRecord } from '../../../src/journal/store.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { postgresReachable } from '../../support/postgres.ts';

export const AT = 1_700_000_000_000;
const PG = {
  host: '127.0.0.1',
  port: 5432,
  database: 'test',
  user: process.env.PGUSER ?? userInfo().username,
};
const PG_SCHEMA = `sb_test_${process.pid}`;
const PG_URL = `postgres://${PG.host}:${PG.port}/${PG.database}?schema=${PG_SCHEMA}`;

/** One database per test, shared by every store object `make` returns until the next `reset`. */
export interface Backend {
  /** Why the suite does not run, or null. */
  skip: string | null;
  reset(): Promise<void>;
  /** A new store object (a new connection: another instance) on the current database, not opened. */
  make(): JournalStore;
  /** Write meta.schema_version by hand, as a newer build would have. */
  setSchemaVersion(version: number): Promise<void>;
  /**
   * Bump the call's token in a transaction left open (PostgreSQL only: in SQLite a waiting writer would block
   * this very thread). `appendWaiting` resolves once some append is blocked behind it.
   */
  holdAcquire?(callId: string): Promise<{ appendWaiting(): Promise<void>; commit(): Promise<void> }>;
  cleanup(): Promise<void>;
}

/** What the tests of one store kind are given. */
export interface StoreSuite {
  backend: Backend;
  /** A new instance on the test's database, opened; closed after the test. */
  instance: () => Promise<JournalStore>;
  /** The instances closed after the test: one a test opens itself goes here too. */
  stores: JournalStore[];
}

/** An encoded record of `kind` for the call, as the runner would store it. */
export function stored(
  callId: string,
  seq: number,
  kind: JournalRecord['kind'] = 'in',
  at = AT + seq,
): StoredRecord {
  const base = { v: 1, callId, seq, at };
  const record: JournalRecord =
    kind === 'start'
      ? { ...base, kind, flow: 'pizza', flowVersion: 2, modelVersion: null, params: { lang: 'en' } }
      : kind === 'end'
        ? { ...base, kind, reason: 'hangup' }
        : { ...base, kind: 'in', event: { type: 'dtmf', digit: String(seq % 10), note: 'x'.repeat(40) } };
  return { seq, kind, at, line: encodeRecord(record), ...(kind === 'start' ? { flow: 'pizza' } : {}) };
}

export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isSwitchboardError(err), `expected a SwitchboardError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return { message: err.message, ...err.data };
  }
  assert.fail(`expected ${code}, the promise resolved`);
}

/** Registers `tests` once for each store kind, SQLite and PostgreSQL, each test on a database of its own. */
export function storeSuites(tests: (suite: StoreSuite) => void): void {
  storeSuite('SQLite journal store', sqliteBackend(), tests);
  storeSuite('PostgreSQL journal store', postgresBackend(), tests);
}

function storeSuite(name: string, backend: Backend, tests: (suite: StoreSuite) => void): void {
  const title = backend.skip ? `${name} (skipped: ${backend.skip})` : name;
  describe(title, { skip: backend.skip ?? false }, () => {
    const stores: JournalStore[] = [];

    async function instance(): Promise<JournalStore> {
      const store = backend.make();
      stores.push(store);
      await store.open();
      return store;
    }

    before(() => backend.reset());
    afterEach(async () => {
      await Promise.all(stores.map((s) => s.close()));
      stores.length = 0;
      await backend.reset();
    });
    after(() => backend.cleanup());

    tests({ backend, instance, stores });
  });
}

/** SQLite: a new file per test in one temporary directory. */
function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'sb-journal-'));
  let path = '';
  let files = 0;
  return {
    skip: null,
    async reset() {
      path = join(dir, `journal-${++files}.db`);
    },
    make: () => new SqliteStore(path, { logger: memoryLogger().logger }),
    async setSchemaVersion(version) {
      const db = new Database(path);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(version));
      db.close();
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// PostgreSQL: the schema is dropped between tests. Skipped, saying why, when no server is reachable.
const reachable = await postgresReachable(`postgres://${PG.user}@${PG.host}:${PG.port}/${PG.database}`);

function postgresBackend(): Backend {
  let admin: pg.Client | null = null;
  async function adminClient(): Promise<pg.Client> {
    if (!admin) {
      admin = new pg.Client(PG);
      await admin.connect();
    }
    return admin;
  }
  return {
    skip:
      reachable || process.env.REQUIRE_POSTGRES === '1'
        ? null
        : `PostgreSQL is not reachable at ${PG.host}:${PG.port}; set REQUIRE_POSTGRES=1 to make this a failure`,
    async reset() {
      await (await adminClient()).query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
    },
    make: () => new PostgresStore(PG_URL, { logger: memoryLogger().logger }),
    async setSchemaVersion(version) {
      await (
        await adminClient()
      ).query(`UPDATE ${PG_SCHEMA}.meta SET value = $1 WHERE key = 'schema_version'`, [String(version)]);
    },
    async holdAcquire(callId) {
      const client = new pg.Client(PG);
      await client.connect();
      await client.query('BEGIN');
      await client.query(
        `UPDATE ${PG_SCHEMA}.calls SET token = token + 1, owner = 'held' WHERE call_id = $1`,
        [callId],
      );
      return {
        async appendWaiting() {
          const watcher = await adminClient();
          for (let i = 0; i < 500; i++) {
            const { rowCount } = await watcher.query(
              `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'
               AND query LIKE '%WITH lease AS%' AND query NOT LIKE '%pg_stat_activity%'`,
              [PG.database],
            );
            if (rowCount) return;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          assert.fail('the append never waited for the held acquire');
        },
        async commit() {
          await client.query('COMMIT');
          await client.end();
        },
      };
    },
    async cleanup() {
      if (!admin) return;
      await admin.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
      await admin.end();
      admin = null;
    },
  };
}
