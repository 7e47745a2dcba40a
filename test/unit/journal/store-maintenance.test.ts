/**
 * The store methods behind retention, erasure and key rotation, on every store: walking call ids, finding old
 * ended calls, replacing lines only when unchanged, and erasing only ended calls.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MemoryStore } from '../../../src/journal/memory.ts';
import { PostgresStore } from '../../../src/journal/postgres.ts';
import { encodeRecord, type JournalRecord } from '../../../src/journal/records.ts';
import { SqliteStore } from '../../../src/journal/sqlite.ts';
import type { JournalStore, StoredRecord } from '../../../src/journal/store.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { dropSchema, postgresReachable, TEST_POSTGRES_URL } from '../../support/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'sb-maint-'));
const schema = `sb_maint_${process.pid}`;
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropSchema(schema);
});

function line(record: JournalRecord): StoredRecord {
  return { seq: record.seq, kind: record.kind, at: record.at, line: encodeRecord(record) };
}

/** A call with a start, one event, and (when `ended`) an end, its last record at `lastAt`. */
async function call(store: JournalStore, callId: string, lastAt: number, ended: boolean): Promise<void> {
  const lease = await store.acquire(callId, 'test');
  const base = { v: 1, callId };
  const records: JournalRecord[] = [
    {
      ...base,
      seq: 1,
      at: lastAt - 2,
      kind: 'start',
      flow: 'demo',
      flowVersion: 1,
      modelVersion: null,
      params: {},
    },
    { ...base, seq: 2, at: lastAt - 1, kind: 'in', event: { type: 'dtmf', digit: '5' } },
  ];
  if (ended) records.push({ ...base, seq: 3, at: lastAt, kind: 'end', reason: 'hangup' });
  else records[1]!.at = lastAt;
  await store.append(lease, records.map(line));
  await store.release(lease);
}

const reachable = await postgresReachable();
const backends: { name: string; skip: string | null; make: () => JournalStore }[] = [
  { name: 'memory', skip: null, make: () => new MemoryStore() },
  {
    name: 'SQLite',
    skip: null,
    make: () => new SqliteStore(join(dir, `j-${Math.random()}.db`), { logger: memoryLogger().logger }),
  },
  {
    name: 'PostgreSQL',
    skip:
      reachable || process.env.REQUIRE_POSTGRES === '1'
        ? null
        : 'PostgreSQL is not reachable at 127.0.0.1:5432; set REQUIRE_POSTGRES=1 to make this a failure',
    make: () => new PostgresStore(`${TEST_POSTGRES_URL}?schema=${schema}`, { logger: memoryLogger().logger }),
  },
];

for (const backend of backends) {
  const title = backend.skip
    ? `${backend.name} store maintenance (skipped: ${backend.skip})`
    : `${backend.name} store maintenance`;
  describe(title, { skip: backend.skip ?? false }, () => {
    async function fresh(): Promise<JournalStore> {
      if (backend.name === 'PostgreSQL') await dropSchema(schema);
      const store = backend.make();
      await store.open();
      return store;
    }

    test('callIds walks every call in pages, in order', async () => {
      const store = await fresh();
      try {
        for (const id of ['CA3', 'CA1', 'CA5', 'CA2', 'CA4']) await call(store, id, 1000, true);
        assert.deepEqual(await store.callIds(null, 2), ['CA1', 'CA2']);
        assert.deepEqual(await store.callIds('CA2', 2), ['CA3', 'CA4']);
        assert.deepEqual(await store.callIds('CA4', 2), ['CA5']);
        assert.deepEqual(await store.callIds('CA5', 2), []);
      } finally {
        await store.close();
      }
    });

    test('endedBefore finds ended calls older than the cut, oldest first, never an open one', async () => {
      const store = await fresh();
      try {
        await call(store, 'CAnew', 5000, true);
        await call(store, 'CAold', 1000, true);
        await call(store, 'CAmid', 2000, true);
        await call(store, 'CAopen', 500, false);
        assert.deepEqual(await store.endedBefore(3000, 10), ['CAold', 'CAmid']);
        assert.deepEqual(await store.endedBefore(3000, 1), ['CAold']);
      } finally {
        await store.close();
      }
    });

    test('erase deletes an ended call and its records, and refuses an open or unknown one', async () => {
      const store = await fresh();
      try {
        await call(store, 'CAdone', 1000, true);
        await call(store, 'CAlive', 1000, false);
        assert.equal(await store.erase('CAlive'), null);
        assert.equal((await store.read('CAlive')).length, 2, 'the open call is untouched');
        assert.equal(await store.erase('CAnobody'), null);
        assert.equal(await store.erase('CAdone'), 3);
        assert.deepEqual(await store.read('CAdone'), []);
        assert.equal(await store.summary('CAdone'), null);
        assert.deepEqual(await store.callIds(null, 10), ['CAlive']);
      } finally {
        await store.close();
      }
    });

    test('rewrite replaces a line only while it is still the one expected', async () => {
      const store = await fresh();
      try {
        await call(store, 'CA1', 1000, true);
        const [, second, third] = await store.read('CA1');
        const replaced = await store.rewrite('CA1', [
          { seq: 2, from: second!.line, to: second!.line.replace('"5"', '"6"') },
          { seq: 3, from: 'not what is stored', to: 'x' },
        ]);
        assert.equal(replaced, 1);
        const now = await store.read('CA1');
        assert.match(now[1]!.line, /"digit":"6"/);
        assert.equal(now[2]!.line, third!.line, 'a stale rewrite changes nothing');
      } finally {
        await store.close();
      }
    });
  });
}
