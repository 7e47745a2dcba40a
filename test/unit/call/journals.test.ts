import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallJournals } from '../../../src/call/journals.ts';
import { SwitchboardError, isSwitchboardError } from '../../../src/errors.ts';
import { MemoryStore } from '../../../src/journal/memory.ts';
import type { CallSummary, Lease } from '../../../src/journal/store.ts';

/** A memory store that cannot be reached for its next `down` reads and lease changes. */
class OutageStore extends MemoryStore {
  down = 0;
  retryable = true;
  calls = 0;

  #outage(): Promise<never> | null {
    this.calls += 1;
    if (this.down === 0) return null;
    this.down -= 1;
    const err = new SwitchboardError('STORE_UNAVAILABLE', 'down', {}, { retryable: this.retryable });
    return Promise.reject(err);
  }

  override summary(callId: string): Promise<CallSummary | null> {
    return this.#outage() ?? super.summary(callId);
  }

  override acquire(callId: string, owner: string): Promise<Lease> {
    return this.#outage() ?? super.acquire(callId, owner);
  }
}

async function journals(store: OutageStore, storeWaitMs: number): Promise<CallJournals> {
  const j = new CallJournals(store, 'test-instance', { storeWaitMs });
  await j.init();
  return j;
}

test('a stream that ends while the store is briefly unreachable still gets its ticket to resume', async () => {
  const store = new OutageStore();
  const j = await journals(store, 5000);
  await j.admit('CA1');
  store.down = 2;
  const next = await j.afterStream('CA1');
  assert.equal(next.kind, 'resume');
  assert.equal(store.down, 0);
});

test('a new call is admitted once the store answers again, its lease taken once it can be', async () => {
  const store = new OutageStore();
  const j = await journals(store, 5000);
  store.down = 2;
  const ticket = await j.admit('CA2');
  assert.equal(ticket.callId, 'CA2');
  assert.equal((await store.summary('CA2'))?.owner, null, 'created and released');
});

test('past its wait, or for an error that will not go away, the store error is answered at once', async () => {
  const store = new OutageStore();
  const j = await journals(store, 0);
  await j.admit('CA3');
  store.down = 1;
  await assert.rejects(j.afterStream('CA3'), (err) => isSwitchboardError(err, 'STORE_UNAVAILABLE'));
  const patient = await journals(store, 5000);
  store.down = 1;
  store.retryable = false;
  const before = store.calls;
  await assert.rejects(patient.afterStream('CA3'), (err) => isSwitchboardError(err, 'STORE_UNAVAILABLE'));
  assert.equal(store.calls - before, 1, 'not asked again');
});

test("a call's journal is capped: a batch past the cap is refused whole, the end record still goes in", async () => {
  const store = new MemoryStore();
  const journals = new CallJournals(store, 'test-instance', { maxRecords: 3 });
  await journals.init();
  const ticket = await journals.admit('CA1');
  const { journal } = await journals.attach({ ...ticket }, 'CA1');
  await journal.append([{ kind: 'start', flow: 'f', flowVersion: 1, modelVersion: null, params: {} }], 1);
  await journal.append([{ kind: 'state', in: 1, state: 'a' }], 2);
  await assert.rejects(
    journal.append(
      [
        { kind: 'state', in: 1, state: 'b' },
        { kind: 'state', in: 1, state: 'c' },
      ],
      3,
    ),
    (err) => isSwitchboardError(err, 'JOURNAL_FULL') && err.data.maxRecords === 3 && err.data.records === 2,
  );
  assert.equal(journal.failure, null, 'a full journal has not failed');
  assert.deepEqual(await journal.append([{ kind: 'state', in: 1, state: 'b' }], 3), [3]);
  await assert.rejects(journal.append([{ kind: 'state', in: 1, state: 'c' }], 4), (err) =>
    isSwitchboardError(err, 'JOURNAL_FULL'),
  );
  assert.deepEqual(await journal.append([{ kind: 'end', reason: 'journal full' }], 5), [4]);
  await journal.release();
  assert.deepEqual(
    (await store.read('CA1')).map((r) => r.kind),
    ['start', 'state', 'state', 'end'],
  );
  assert.deepEqual(await journals.afterStream('CA1'), { kind: 'ended' });
});
