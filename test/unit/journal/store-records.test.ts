/** Every store (SQLite, PostgreSQL): appends read back, tokens, fencing, conflicts, summaries, release. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSwitchboardError } from '../../../src/errors.ts';
import { readRecords } from '../../../src/journal/records.ts';
import type { Lease } from '../../../src/journal/store.ts';
import { AT, rejectsWith, stored, storeSuites } from './store-fixture.ts';

storeSuites(({ backend, instance }) => {
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
});
