import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JOURNAL_VERSION, type JournalEntry, type JournalRecord } from '../../../src/journal/records.ts';
import { callOutcome, describeOutcome } from '../../../src/web/calls/outcome.ts';

const CALL = 'CA' + 'c'.repeat(32);

function journal(entries: JournalEntry[]): JournalRecord[] {
  return entries.map((entry, i) => ({
    ...entry,
    v: JOURNAL_VERSION,
    callId: CALL,
    seq: i + 1,
    at: 1000 + i,
  }));
}

const eff = (type: string, id: string): JournalEntry => ({
  kind: 'eff',
  key: `${CALL}:${id}`,
  effect: { type, id },
});
const ev = (type: string, id: string): JournalEntry => ({ kind: 'in', event: { type, at: 0, id } });
const state = (name: string): JournalEntry => ({ kind: 'state', in: 1, state: name });

test('a call with no web requests or transfers has no outcome in words, only its last state', () => {
  const outcome = callOutcome(journal([state('menu'), eff('say', 'menu.1'), state('bye')]));
  assert.equal(outcome.lastState, 'bye');
  assert.equal(describeOutcome(outcome), '');
  assert.equal(callOutcome([]).lastState, null);
});

test('web requests are counted by how they came out, transfers asked for and failed apart', () => {
  const records = journal([
    eff('http', 'a.1'),
    ev('http.done', 'a.1'),
    eff('http', 'b.2'),
    ev('http.done', 'b.2'),
    eff('http', 'c.3'),
    ev('http.failed', 'c.3'),
    eff('transfer', 'd.4'),
    ev('transfer.failed', 'd.4'),
    eff('transfer', 'e.5'),
    state('staff'),
  ]);
  const outcome = callOutcome(records);
  assert.equal(outcome.lastState, 'staff');
  assert.equal(
    describeOutcome(outcome),
    '2 web requests answered · web request failed · transfer asked for · transfer failed',
  );
});

test('a transfer that failed is not also counted as asked for', () => {
  const outcome = callOutcome(journal([eff('transfer', 'a.1'), ev('transfer.failed', 'a.1')]));
  assert.equal(describeOutcome(outcome), 'transfer failed');
});

test('an event named like a counted effect is not counted as one', () => {
  const outcome = callOutcome(journal([ev('transfer', 'a.1'), eff('http.done', 'a.1')]));
  assert.equal(describeOutcome(outcome), '');
});
