/**
 * The chaos bench's checker must see what it is there to see: audits of writes that break the fence, orders
 * placed twice, a committed answer asked for again and a timer the flow acted on are reported; a clean audit is
 * not (negative controls for bench/chaos/checker.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { check } from '../../../bench/chaos/checker.ts';
import { openStore } from '../../../src/journal/open-store.ts';
import { encodeRecord, type JournalEntry, type JournalRecord } from '../../../src/journal/records.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import type { AuditRow } from '../../../bench/chaos/write-audit.ts';

type Row = [what: 'acquire' | 'append', token: number, seq: number | null, writer: string];

async function fencing(rows: Row[]): Promise<string[]> {
  const audit: AuditRow[] = rows.map(([what, token, seq, writer], id) => ({
    id,
    callId: 'CA1',
    what,
    token,
    seq,
    writer,
  }));
  const result = await check({
    storeUrl: 'memory:',
    audit: new Map([['CA1', audit]]),
    runs: [],
    orders: { applied: [], repeats: 0 },
  });
  return result.fencingViolations;
}

test('a call taken over cleanly, each holder appending under its own token, breaks nothing', async () => {
  const rows: Row[] = [
    ['acquire', 1, null, 'a'],
    ['append', 1, 1, 'a'],
    ['append', 1, 2, 'a'],
    ['acquire', 2, null, 'b'],
    ['append', 2, 3, 'b'],
  ];
  assert.deepEqual(await fencing(rows), []);
});

test('a write by the holder fenced out, a second writer in one lease, a gap, a token going back: each reported', async () => {
  const stale = await fencing([
    ['acquire', 1, null, 'a'],
    ['acquire', 2, null, 'b'],
    ['append', 1, 1, 'a'],
  ]);
  assert.match(stale.join(), /under token 1 while 2 was current/);
  const twoWriters = await fencing([
    ['acquire', 1, null, 'a'],
    ['append', 1, 1, 'b'],
  ]);
  assert.match(twoWriters.join(), /two writers in one lease/);
  const gap = await fencing([
    ['acquire', 1, null, 'a'],
    ['append', 1, 1, 'a'],
    ['append', 1, 3, 'a'],
  ]);
  assert.match(gap.join(), /seq 3 appended after seq 1/);
  const back = await fencing([
    ['acquire', 2, null, 'a'],
    ['acquire', 1, null, 'b'],
  ]);
  assert.match(back.join(), /did not grow/);
});

test('two distinct order keys for one call is an order placed twice; a key sent again is not', async () => {
  const result = await check({
    storeUrl: 'memory:',
    audit: null,
    runs: [],
    orders: { applied: ['CA1:place.4', 'CA1:place.9', 'CA2:place.4'], repeats: 3 },
  });
  assert.deepEqual(result.doubledEffects, ['CA1: CA1:place.4, CA1:place.9']);
  assert.equal(result.repeatsDeduplicated, 3);
});

test('a no-input timer the flow acted on is told from a stale one it ignored, and a committed answer asked again is a lost turn', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chaos-checker-'));
  const url = `sqlite:${join(dir, 'calls.db')}`;
  try {
    const store = await openStore(url, { logger: memoryLogger('warn').logger });
    const write = async (callId: string, entries: JournalEntry[]): Promise<void> => {
      const lease = await store.acquire(callId, 'test');
      const records = entries.map((entry, i) => {
        const record = { ...entry, v: 1, callId, seq: i + 1, at: 1000 + i } as JournalRecord;
        return { seq: i + 1, kind: entry.kind, at: 1000 + i, line: encodeRecord(record) };
      });
      await store.append(lease, records);
    };
    const start: JournalEntry = {
      kind: 'start',
      flow: 'pizza',
      flowVersion: 2,
      modelVersion: null,
      params: {},
    };
    const say = (mark: string): JournalEntry => ({ kind: 'eff', key: mark, effect: { type: 'say', mark } });
    await write('CAacted', [
      start,
      { kind: 'in', event: { type: 'timer', id: 't1', at: 1 } },
      say('greet.3'),
      { kind: 'state', in: 2, state: 'greet' },
      { kind: 'end', reason: 'test' },
    ]);
    await write('CAstale', [
      start,
      { kind: 'in', event: { type: 'timer', id: 't1', at: 1 } },
      { kind: 'state', in: 2, state: 'greet' },
      { kind: 'end', reason: 'test' },
    ]);
    await write('CAlost', [
      start,
      { kind: 'state', in: 1, state: 'greet' },
      { kind: 'in', event: { type: 'dtmf', digit: '1', at: 2 } },
      { kind: 'state', in: 3, state: 'size' },
      say('greet.7'),
    ]);
    await store.close();
    const result = await check({ storeUrl: url, audit: null, runs: [], orders: { applied: [], repeats: 0 } });
    assert.equal(result.timersFired.length, 2);
    assert.deepEqual(result.timersActedOn, ['CAacted: seq 2, timer t1, acted on']);
    assert.deepEqual(result.lostTurns, ["CAlost: '1' in greet (seq 3) asked again as greet.7"]);
    assert.deepEqual(result.openJournals, ['CAlost: 5 records']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
