/** The SQLite store's worker thread: concurrent appends committed together, close, and a worker that dies. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, before, after, describe, test } from 'node:test';
import { isSwitchboardError } from '../../../src/errors.ts';
import { SqliteStore } from '../../../src/journal/sqlite.ts';
import type { Lease } from '../../../src/journal/store.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { rejectsWith, stored } from './store-fixture.ts';

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
