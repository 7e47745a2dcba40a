/** Listing calls leaves out the journals beside them (dials, campaigns, recordings, warm transfers). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../../../src/journal/memory.ts';
import { beginSideJournal, isSideJournalId, listCalls } from '../../../src/journal/side-journal.ts';

const start = { kind: 'start' as const, flow: 'desk', flowVersion: 1, modelVersion: null, params: {} };

test('calls are listed without side journals, up to the limit', async () => {
  const store = new MemoryStore();
  const ids = ['CA1', 'dial-a', 'CA2', 'recording-CA2', 'transfer-CA2-connect.6', 'campaign-c', 'CA3'];
  let at = 1000;
  for (const id of ids) await beginSideJournal(store, 'test', id, start, (at += 10));
  assert.deepEqual((await listCalls(store, 10)).map((s) => s.callId).sort(), ['CA1', 'CA2', 'CA3']);
  assert.equal((await listCalls(store, 2)).length, 2);
  assert.equal(isSideJournalId('dial-x'), true);
  assert.equal(isSideJournalId('CAdial-'), false);
});
