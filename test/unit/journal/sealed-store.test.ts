/** The sealing store over a real one, re-sealing under a new key, and retention's purge of old ended calls. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallJournal, readJournal } from '../../../src/call/call-journal.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { Keyring, parseKey } from '../../../src/journal/keyring.ts';
import { MemoryStore } from '../../../src/journal/memory.ts';
import { decodeRecord } from '../../../src/journal/records.ts';
import { purgeEnded } from '../../../src/journal/retention.ts';
import { rotateKeys } from '../../../src/journal/rotation.ts';
import { SealedStore } from '../../../src/journal/sealed-store.ts';
import { sealedWith } from '../../../src/journal/sealing.ts';
import type { JournalStore } from '../../../src/journal/store.ts';

const OLD = parseKey('1'.repeat(64), 'test');
const NEW = parseKey('2'.repeat(64), 'test');

/** A call journaled through `store`: a start with the caller's number, a transcript, an end when `ended`. */
async function journalCall(store: JournalStore, callId: string, at: number, ended = true): Promise<void> {
  const journal = new CallJournal(store, await store.acquire(callId, 'test'), 0);
  await journal.append(
    [
      {
        kind: 'start',
        flow: 'demo',
        flowVersion: 1,
        modelVersion: null,
        params: { flow: 'demo', from: '+15550001111' },
      },
      { kind: 'in', event: { type: 'speech', at, text: 'my card is 4111' } },
      ...(ended ? [{ kind: 'end' as const, reason: 'hangup' }] : []),
    ],
    at,
  );
  await journal.release();
}

test('records are stored sealed and read back whole with the key', async () => {
  const raw = new MemoryStore();
  const store = new SealedStore(raw, new Keyring([OLD]));
  await journalCall(store, 'CA1', 1000);
  const lines = (await raw.read('CA1')).map((r) => r.line).join('\n');
  assert.ok(!lines.includes('4111') && !lines.includes('+15550001111'), lines);
  const records = await readJournal(store, 'CA1');
  assert.equal(records.length, 3);
  assert.deepEqual(records[0]!.kind === 'start' && records[0]!.params, {
    flow: 'demo',
    from: '+15550001111',
  });
  assert.equal(records[1]!.kind === 'in' && records[1]!.event.text, 'my card is 4111');
});

test('without the key a call reads with fields withheld, and cannot drive a call (JOURNAL_KEY_MISSING)', async () => {
  const raw = new MemoryStore();
  await journalCall(new SealedStore(raw, new Keyring([OLD])), 'CA1', 1000);
  const keyless = new SealedStore(raw, Keyring.empty());
  await assert.rejects(readJournal(keyless, 'CA1'), (err) => isSwitchboardError(err, 'JOURNAL_KEY_MISSING'));
  const shown = await readJournal(keyless, 'CA1', { withheld: 'allow' });
  assert.deepEqual(
    shown.map((r) => [r.kind, r.withheld ?? null]),
    [
      ['start', OLD.id],
      ['in', OLD.id],
      ['end', null],
    ],
  );
  assert.ok(!JSON.stringify(shown).includes('4111'));
});

test('with no key records are written in clear, as before encryption existed', async () => {
  const raw = new MemoryStore();
  await journalCall(new SealedStore(raw, Keyring.empty()), 'CA1', 1000);
  assert.match((await raw.read('CA1'))[1]!.line, /my card is 4111/);
});

test('rotation re-seals old-key and clear records under the new key; old records stay readable meanwhile', async () => {
  const raw = new MemoryStore();
  await journalCall(new SealedStore(raw, new Keyring([OLD])), 'CA1', 1000);
  await journalCall(new SealedStore(raw, Keyring.empty()), 'CA2', 1000);
  const both = new Keyring([NEW, OLD]);
  await journalCall(new SealedStore(raw, both), 'CA3', 1000);
  const before = await readJournal(new SealedStore(raw, both), 'CA1');

  const done = await rotateKeys(raw, both);
  assert.equal(done.calls, 3);
  assert.equal(done.callsChanged, 2, 'CA3 was already under the new key');
  assert.equal(done.records, 4, 'start and speech of CA1 and CA2');
  assert.equal(done.missingKey, 0);
  for (const id of ['CA1', 'CA2', 'CA3']) {
    for (const row of await raw.read(id)) {
      const under = sealedWith(decodeRecord(row.line));
      assert.ok(under === null || under === NEW.id, `${id} ${row.seq} under ${under}`);
    }
  }
  const onlyNew = new SealedStore(raw, new Keyring([NEW]));
  assert.deepEqual(await readJournal(onlyNew, 'CA1'), before, 'the same call, now under the new key alone');
  assert.equal((await rotateKeys(raw, both)).records, 0, 'a second run has nothing left to do');
});

test('rotation leaves records under a key it lacks, and counts them', async () => {
  const raw = new MemoryStore();
  await journalCall(new SealedStore(raw, new Keyring([OLD])), 'CA1', 1000);
  const done = await rotateKeys(raw, new Keyring([NEW]));
  assert.equal(done.missingKey, 2);
  assert.equal(done.records, 0);
  assert.equal((await readJournal(new SealedStore(raw, new Keyring([OLD])), 'CA1')).length, 3);
});

test('retention purges ended calls older than the cut, never an open one', async () => {
  const store = new MemoryStore();
  for (let i = 0; i < 450; i++) await journalCall(store, `CAold${i}`, 1000);
  await journalCall(store, 'CAopen', 1000, false);
  await journalCall(store, 'CArecent', 9000);
  const purged = await purgeEnded(store, 5000);
  assert.deepEqual(purged, { calls: 450, records: 1350 });
  assert.deepEqual((await store.callIds(null, 10)).sort(), ['CAopen', 'CArecent']);
});
