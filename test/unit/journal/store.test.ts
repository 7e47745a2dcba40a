import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, before, after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { isSwitchboardError } from '../../../src/errors.ts';
import { openStore } from '../../../src/journal/open-store.ts';
import { PostgresStore } from '../../../src/journal/postgres.ts';
import { encodeRecord, readRecords, type JournalRecord } from '../../../src/journal/records.ts';
import { SqliteStore } from '../../../src/journal/sqlite.ts';
import type { JournalStore, Lease, StoredRecord } from '../../../src/journal/store.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { postgresReachable } from '../../support/postgres.ts';

const AT = 1_700_000_000_000;
const PG = {
  host: '127.0.0.1',
  port: 5432,
  database: 'test',
  user: process.env.PGUSER ?? userInfo().username,
};
const PG_SCHEMA = `sb_test_${process.pid}`;
const PG_URL = `postgres://${PG.host}:${PG.port}/${PG.database}?schema=${PG_SCHEMA}`;

/** One database per test, shared by every store object `make` returns until the next `reset`. */
interface Backend {
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

/** An encoded record of `kind` for the call, as the runner would store it. */
function stored(
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

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isSwitchboardError(err), `expected a SwitchboardError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return { message: err.message, ...err.data };
  }
  assert.fail(`expected ${code}, the promise resolved`);
}

function storeSuite(name: string, backend: Backend): void {
  const title = backend.skip ? `${name} (skipped: ${backend.skip})` : name;
  describe(title, { skip: backend.skip ?? false }, () => {
    let stores: JournalStore[] = [];

    /** A new instance on the test's database, opened; closed after the test. */
    async function instance(): Promise<JournalStore> {
      const store = backend.make();
      stores.push(store);
      await store.open();
      return store;
    }

    before(() => backend.reset());
    afterEach(async () => {
      await Promise.all(stores.map((s) => s.close()));
      stores = [];
      await backend.reset();
    });
    after(() => backend.cleanup());

    test('appended records read back as stored, in sequence order', async () => {
      const store = await instance();
      const lease = await store.acquire('CA1', 'i1');
      const batch = [stored('CA1', 1, 'start'), stored('CA1', 2)];
      await store.append(lease, batch);
      await store.append(lease, [stored('CA1', 3), stored('CA1', 4, 'end')]);
      const read = await store.read('CA1');
      assert.deepEqual(
        read,
        [...batch, stored('CA1', 3), stored('CA1', 4, 'end')].map(({ seq, kind, at, line }) => ({
          seq,
          kind,
          at,
          line,
        })),
      );
      const journal = readRecords(read.map((r) => r.line));
      assert.equal(journal.tornTail, false);
      assert.deepEqual(
        journal.records.map((r) => r.kind),
        ['start', 'in', 'in', 'end'],
      );
      assert.deepEqual(await store.read('CA-unknown'), []);
    });

    test('each acquire hands out a greater token and records the owner', async () => {
      const store = await instance();
      assert.equal((await store.acquire('CA1', 'i1')).token, 1);
      assert.equal((await store.acquire('CA1', 'i2')).token, 2);
      assert.deepEqual(await store.acquire('CA1', 'i3'), { callId: 'CA1', owner: 'i3', token: 3 });
      assert.equal((await store.acquire('CA2', 'i1')).token, 1);
      const summary = await store.summary('CA1');
      assert.equal(summary?.owner, 'i3');
      assert.equal(summary?.token, 3);
    });

    test('an instance whose call was taken by another cannot append', async () => {
      const a = await instance();
      const b = await instance();
      const leaseA = await a.acquire('CA1', 'a');
      await a.append(leaseA, [stored('CA1', 1, 'start')]);
      const leaseB = await b.acquire('CA1', 'b');
      const err = await rejectsWith(a.append(leaseA, [stored('CA1', 2), stored('CA1', 3)]), 'JOURNAL_FENCED');
      assert.equal(err.callId, 'CA1');
      assert.equal(err.token, 1);
      assert.equal(err.current, 2);
      await rejectsWith(a.append(leaseA, []), 'JOURNAL_FENCED');
      assert.deepEqual(
        (await b.read('CA1')).map((r) => r.seq),
        [1],
      );
      assert.equal((await b.summary('CA1'))?.records, 1);
      await b.append(leaseB, [stored('CA1', 2)]);
      // The fenced holder giving up the lease must not clear the new holder's.
      await a.release(leaseA);
      assert.equal((await a.summary('CA1'))?.owner, 'b');
      await rejectsWith(
        a.append({ callId: 'CA-never', owner: 'a', token: 1 }, [stored('CA-never', 1)]),
        'JOURNAL_FENCED',
      );
      assert.deepEqual(await a.read('CA-never'), []);
    });

    test('an append racing an acquire is stored only if it committed before the acquire', async () => {
      const a = await instance();
      const b = await instance();
      let seq = 0;
      let fencedCount = 0;
      for (let round = 0; round < 40; round++) {
        const leaseA = await a.acquire('CA1', 'a');
        // Which one is sent first alternates, so both outcomes occur.
        const send = {
          append: () => a.append(leaseA, [stored('CA1', seq + 1)]),
          acquire: () => b.acquire('CA1', 'b'),
        };
        let appended: Promise<void>;
        let acquired: Promise<Lease>;
        if (round % 2 === 0) {
          appended = send.append();
          acquired = send.acquire();
        } else {
          acquired = send.acquire();
          appended = send.append();
        }
        const [append, acquire] = await Promise.allSettled([appended, acquired]);
        assert.equal(acquire.status, 'fulfilled');
        if (append.status === 'fulfilled') seq++;
        else {
          assert.ok(isSwitchboardError(append.reason, 'JOURNAL_FENCED'), String(append.reason));
          fencedCount++;
        }
        assert.equal((await a.read('CA1')).length, seq, `round ${round}: a fenced append left records`);
        // B's acquire has resolved: nothing A writes under its old token may ever land.
        await rejectsWith(a.append(leaseA, [stored('CA1', seq + 1)]), 'JOURNAL_FENCED');
        assert.equal((await b.read('CA1')).length, seq);
      }
      assert.equal((await b.summary('CA1'))?.records, seq);
      assert.equal((await b.summary('CA1'))?.token, 80);
      // Each order was sent 20 times: both outcomes must have been seen, or the race was not exercised.
      assert.ok(fencedCount > 0 && seq > 0, `fenced ${fencedCount}, stored ${seq}`);
    });

    test(
      'an append blocked behind a concurrent acquire is fenced once the acquire commits',
      {
        skip: backend.holdAcquire ? false : 'SQLite has one writer at a time: the token check runs inside it',
      },
      async () => {
        const a = await instance();
        const leaseA = await a.acquire('CA1', 'a');
        await a.append(leaseA, [stored('CA1', 1, 'start')]);
        const held = await backend.holdAcquire!('CA1');
        const append = a.append(leaseA, [stored('CA1', 2), stored('CA1', 3)]);
        const settled = append.then(
          () => null,
          (err: unknown) => err,
        );
        await held.appendWaiting();
        await held.commit();
        const err = await settled;
        assert.ok(isSwitchboardError(err, 'JOURNAL_FENCED'), String(err));
        assert.equal(err.data.current, 2);
        assert.deepEqual(
          (await a.read('CA1')).map((r) => r.seq),
          [1],
        );
        assert.equal((await a.summary('CA1'))?.records, 1);
      },
    );

    test('a sequence number already stored is JOURNAL_CONFLICT and nothing of the batch is kept', async () => {
      const store = await instance();
      const lease = await store.acquire('CA1', 'i1');
      await store.append(lease, [stored('CA1', 1, 'start'), stored('CA1', 2)]);
      const err = await rejectsWith(
        store.append(lease, [stored('CA1', 3), stored('CA1', 2), stored('CA1', 4, 'end')]),
        'JOURNAL_CONFLICT',
      );
      assert.equal(err.seq, 2);
      assert.equal(err.callId, 'CA1');
      await rejectsWith(store.append(lease, [stored('CA1', 3), stored('CA1', 3)]), 'JOURNAL_CONFLICT');
      assert.deepEqual(
        (await store.read('CA1')).map((r) => r.seq),
        [1, 2],
      );
      const summary = await store.summary('CA1');
      assert.equal(summary?.records, 2);
      assert.equal(summary?.ended, false);
      assert.equal(summary?.lastAt, AT + 2);
      await store.append(lease, [stored('CA1', 3)]);
      assert.equal((await store.summary('CA1'))?.records, 3);
    });

    test('summaries count records, carry the flow and the end, and list most recent first', async () => {
      const store = await instance();
      const one = await store.acquire('CA1', 'i1');
      await store.append(one, [stored('CA1', 1, 'start', AT), stored('CA1', 2, 'in', AT + 10)]);
      await store.append(one, [stored('CA1', 3, 'end', AT + 20)]);
      const two = await store.acquire('CA2', 'i2');
      await store.append(two, [stored('CA2', 1, 'start', AT + 100)]);
      await store.acquire('CA3', 'i1');
      assert.deepEqual(await store.summary('CA1'), {
        callId: 'CA1',
        flow: 'pizza',
        records: 3,
        firstAt: AT,
        lastAt: AT + 20,
        ended: true,
        owner: 'i1',
        token: 1,
      });
      assert.deepEqual(await store.summary('CA3'), {
        callId: 'CA3',
        flow: null,
        records: 0,
        firstAt: null,
        lastAt: null,
        ended: false,
        owner: 'i1',
        token: 1,
      });
      assert.equal(await store.summary('CA-unknown'), null);
      assert.deepEqual(
        (await store.list(10)).map((s) => [s.callId, s.ended]),
        [
          ['CA2', false],
          ['CA1', true],
          ['CA3', false],
        ],
      );
      assert.deepEqual(
        (await store.list(1)).map((s) => s.callId),
        ['CA2'],
      );
      // A later record moves its call to the front.
      await store.append(one, [stored('CA1', 4, 'in', AT + 200)]);
      assert.deepEqual(
        (await store.list(2)).map((s) => s.callId),
        ['CA1', 'CA2'],
      );
    });

    test('release gives the lease up and the next acquire still fences the old holder', async () => {
      const store = await instance();
      const first = await store.acquire('CA1', 'i1');
      await store.release(first);
      assert.equal((await store.summary('CA1'))?.owner, null);
      assert.equal((await store.summary('CA1'))?.token, 1);
      const second = await store.acquire('CA1', 'i2');
      assert.equal(second.token, 2);
      await store.release(first);
      assert.equal((await store.summary('CA1'))?.owner, 'i2');
      await rejectsWith(store.append(first, [stored('CA1', 1)]), 'JOURNAL_FENCED');
      await store.append(second, [stored('CA1', 1)]);
    });

    test('the secret is 32 bytes, the same for every instance, and kept across reopening', async () => {
      const a = await instance();
      const b = await instance();
      const secret = await a.secret();
      assert.equal(secret.length, 32);
      assert.deepEqual(await b.secret(), secret);
      await a.close();
      await b.close();
      assert.deepEqual(await (await instance()).secret(), secret);
    });

    test('two instances creating the store at the same time agree on it', async () => {
      const a = backend.make();
      const b = backend.make();
      stores.push(a, b);
      await Promise.all([a.open(), b.open()]);
      assert.deepEqual(await a.secret(), await b.secret());
      const lease = await a.acquire('CA1', 'a');
      await b.append(await b.acquire('CA1', 'b'), [stored('CA1', 1)]);
      await rejectsWith(a.append(lease, [stored('CA1', 2)]), 'JOURNAL_FENCED');
    });

    test('closing and reopening keeps calls, records and tokens', async () => {
      const store = await instance();
      const lease = await store.acquire('CA1', 'i1');
      await store.append(lease, [stored('CA1', 1, 'start'), stored('CA1', 2, 'end')]);
      const summary = await store.summary('CA1');
      const records = await store.read('CA1');
      await store.close();
      const again = await instance();
      assert.deepEqual(await again.summary('CA1'), summary);
      assert.deepEqual(await again.read('CA1'), records);
      assert.equal((await again.acquire('CA1', 'i2')).token, 2);
    });

    test('a store made by a newer schema version is refused on open', async () => {
      const store = await instance();
      await store.close();
      await backend.setSchemaVersion(99);
      const err = await rejectsWith(instance(), 'STORE_VERSION_UNSUPPORTED');
      assert.equal(err.version, 99);
      assert.match(String(err.message), /schema version 99/);
    });
  });
}

// SQLite: a new file per test in one temporary directory.
const sqliteDir = mkdtempSync(join(tmpdir(), 'sb-journal-'));
let sqlitePath = '';
let sqliteFiles = 0;
storeSuite('SQLite journal store', {
  skip: null,
  async reset() {
    sqlitePath = join(sqliteDir, `journal-${++sqliteFiles}.db`);
  },
  make: () => new SqliteStore(sqlitePath, { logger: memoryLogger().logger }),
  async setSchemaVersion(version) {
    const db = new Database(sqlitePath);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(version));
    db.close();
  },
  async cleanup() {
    rmSync(sqliteDir, { recursive: true, force: true });
  },
});

// PostgreSQL: the schema is dropped between tests. Skipped, saying why, when no server is reachable.
const reachable = await postgresReachable(`postgres://${PG.user}@${PG.host}:${PG.port}/${PG.database}`);
let admin: pg.Client | null = null;
async function adminClient(): Promise<pg.Client> {
  if (!admin) {
    admin = new pg.Client(PG);
    await admin.connect();
  }
  return admin;
}

storeSuite('PostgreSQL journal store', {
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
    await client.query(`UPDATE ${PG_SCHEMA}.calls SET token = token + 1, owner = 'held' WHERE call_id = $1`, [
      callId,
    ]);
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
});

test('openStore refuses a URL that is neither sqlite: nor postgres://', async () => {
  const { logger } = memoryLogger();
  for (const url of ['mysql://x', 'sqlite:', '', 'postgres:/nohost']) {
    const err = await rejectsWith(openStore(url, { logger }), 'CONFIG_INVALID');
    assert.match(String(err.message), /STORE_URL must be sqlite:PATH, postgres:\/\/\.\.\. or memory:/);
  }
});

test('openStore opens an SQLite file, making its directories', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-open-'));
  try {
    const store = await openStore(`sqlite:${join(dir, 'a', 'b', 'journal.db')}`, {
      logger: memoryLogger().logger,
    });
    assert.equal(store.kind, 'sqlite');
    assert.equal(store.location, join(dir, 'a', 'b', 'journal.db'));
    assert.equal((await store.acquire('CA1', 'i1')).token, 1);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreachable PostgreSQL is STORE_UNAVAILABLE and the password appears nowhere', async () => {
  const url = 'postgres://u:secretpw@127.0.0.1:1/x';
  const { logger, records } = memoryLogger();
  try {
    await openStore(url, { logger });
    assert.fail('opened a store on a closed port');
  } catch (err) {
    assert.ok(isSwitchboardError(err, 'STORE_UNAVAILABLE'), String(err));
    assert.ok(err.cause, 'the driver error is kept as the cause');
    assert.doesNotMatch(err.message, /secretpw/);
    assert.doesNotMatch(JSON.stringify(err.data), /secretpw/);
    assert.match(err.message, /127\.0\.0\.1:1/);
  }
  assert.doesNotMatch(JSON.stringify(records), /secretpw/);
  const store = new PostgresStore(url, { logger });
  assert.equal(store.kind, 'postgres');
  assert.doesNotMatch(store.location, /secretpw/);
  assert.match(store.location, /^postgres:\/\/u@127\.0\.0\.1:1\/x/);
  await store.close();
});

// SQLite only: the store's connection lives in a worker thread that commits concurrent appends together.
describe('SQLite worker thread', () => {
  let dir = '';
  let stores: SqliteStore[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-journal-worker-'));
  });
  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()));
    stores = [];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function open(file: string): Promise<SqliteStore> {
    const store = new SqliteStore(join(dir, file), { logger: memoryLogger().logger });
    stores.push(store);
    await store.open();
    return store;
  }

  test('appends sent together commit together, a fenced or conflicting one failing alone', async () => {
    const a = await open('group.db');
    const b = await open('group.db');
    const leases: Lease[] = [];
    for (let c = 0; c < 10; c++) {
      leases.push(await a.acquire(`CA${c}`, 'a'));
      await a.append(leases[c]!, [stored(`CA${c}`, 1, 'start')]);
    }
    await b.acquire('CA3', 'b');
    // Sent in one tick: they reach the worker together and share one transaction.
    const appends = leases.map((lease, c) => a.append(lease, [stored(`CA${c}`, 2), stored(`CA${c}`, 3)]));
    const duplicate = a.append(leases[5]!, [stored('CA5', 4), stored('CA5', 1)]);
    // Sent after them, so it must see every one that is stored.
    const listed = a.list(20);
    const results = await Promise.allSettled(appends);
    const fenced = results.flatMap((r, c) => (r.status === 'rejected' ? [[c, r.reason] as const] : []));
    assert.equal(fenced.length, 1);
    assert.equal(fenced[0]![0], 3);
    assert.ok(isSwitchboardError(fenced[0]![1], 'JOURNAL_FENCED'), String(fenced[0]![1]));
    assert.deepEqual(fenced[0]![1].data, { callId: 'CA3', token: 1, current: 2 });
    const conflict = await rejectsWith(duplicate, 'JOURNAL_CONFLICT');
    assert.equal(conflict.seq, 1);
    const counts = new Map((await listed).map((s) => [s.callId, s.records]));
    for (let c = 0; c < 10; c++) {
      const seqs = (await b.read(`CA${c}`)).map((r) => r.seq);
      assert.deepEqual(seqs, c === 3 ? [1] : [1, 2, 3], `CA${c}`);
      assert.equal(counts.get(`CA${c}`), seqs.length, `CA${c} listed`);
    }
  });

  test('close lets requests sent before it finish', async () => {
    const store = await open('close.db');
    const lease = await store.acquire('CA1', 'a');
    const appends = [1, 2, 3].map((seq) => store.append(lease, [stored('CA1', seq)]));
    await store.close();
    await Promise.all(appends);
    await rejectsWith(store.read('CA1'), 'STORE_UNAVAILABLE');
    assert.deepEqual(
      (await (await open('close.db')).read('CA1')).map((r) => r.seq),
      [1, 2, 3],
    );
  });

  test('a worker that dies rejects pending and later requests with STORE_UNAVAILABLE', async () => {
    const store = await open('killed.db');
    const lease = await store.acquire('CA1', 'a');
    const append = (seq: number): Promise<void> => store.append(lease, [stored('CA1', seq)]);
    const appends = Array.from({ length: 100 }, (_, i) => append(i + 1));
    await appends[0];
    // Killed right after more were sent: terminate() takes effect at the worker's next JavaScript, so a group
    // already committing may still be answered, but hardly all of these.
    appends.push(...Array.from({ length: 500 }, (_, i) => append(i + 101)));
    await store.worker!.terminate();
    const results = await Promise.allSettled(appends);
    const resolved = results.findIndex((r) => r.status === 'rejected');
    assert.ok(resolved > 0 && resolved < 600, `resolved ${resolved}`);
    for (const r of results.slice(resolved)) {
      assert.equal(r.status, 'rejected');
      assert.ok(isSwitchboardError(r.reason, 'STORE_UNAVAILABLE'), String(r.reason));
    }
    await rejectsWith(store.acquire('CA2', 'a'), 'STORE_UNAVAILABLE');
    await rejectsWith(store.append(lease, [stored('CA1', 999)]), 'STORE_UNAVAILABLE');
    // Every acknowledged append is stored; an unacknowledged one may be too (committed, not yet answered).
    const seqs = (await (await open('killed.db')).read('CA1')).map((r) => r.seq);
    assert.ok(seqs.length >= resolved, `${seqs.length} stored, ${resolved} acknowledged`);
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => i + 1),
    );
  });
});
