import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSwitchboardError } from '../../../src/errors.ts';
import {
  decodeRecord,
  encodeRecord,
  parseJsonLines,
  readRecords,
  type JournalRecord,
} from '../../../src/journal/records.ts';

const AT = 1_700_000_000_000;

function journal(callId = 'CA1', count = 4): JournalRecord[] {
  const records: JournalRecord[] = [
    {
      v: 1,
      callId,
      seq: 1,
      at: AT,
      kind: 'start',
      flow: 'pizza',
      flowVersion: 3,
      modelVersion: null,
      params: { from: '+15550100' },
    },
    { v: 1, callId, seq: 2, at: AT + 10, kind: 'in', event: { type: 'dtmf', digit: '1' } },
    { v: 1, callId, seq: 3, at: AT + 20, kind: 'eff', key: 'say:1', effect: { type: 'say', text: 'Hi' } },
    { v: 1, callId, seq: 4, at: AT + 30, kind: 'end', reason: 'hangup' },
  ];
  return records.slice(0, count);
}

/** Asserts `fn` throws the typed error `code` and returns it for further checks. */
function throwsCode(fn: () => unknown, code: string): { message: string; data: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    assert.ok(isSwitchboardError(err), `expected a SwitchboardError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}

test('every kind of record survives encode and decode unchanged', () => {
  for (const record of journal()) {
    const line = encodeRecord(record);
    assert.ok(!line.includes('\n'));
    assert.deepEqual(decodeRecord(line), record);
  }
  const { records, tornTail } = readRecords(journal().map(encodeRecord));
  assert.equal(tornTail, false);
  assert.deepEqual(
    records.map((r) => [r.seq, r.kind]),
    [
      [1, 'start'],
      [2, 'in'],
      [3, 'eff'],
      [4, 'end'],
    ],
  );
});

test('a flipped character is JOURNAL_CORRUPT', () => {
  const line = encodeRecord(journal()[1]!);
  const i = line.indexOf('dtmf');
  throwsCode(() => decodeRecord(`${line.slice(0, i)}DTMF${line.slice(i + 4)}`), 'JOURNAL_CORRUPT');
  throwsCode(() => decodeRecord(line.replace('"seq":2', '"seq":3')), 'JOURNAL_CORRUPT');
  throwsCode(() => decodeRecord(line.slice(0, -1)), 'JOURNAL_CORRUPT');
  throwsCode(() => decodeRecord(''), 'JOURNAL_CORRUPT');
});

test('a last record cut short is dropped as a torn tail', () => {
  const lines = journal().map(encodeRecord);
  lines[3] = lines[3]!.slice(0, 25);
  const { records, tornTail } = readRecords(lines);
  assert.equal(tornTail, true);
  assert.deepEqual(
    records.map((r) => r.seq),
    [1, 2, 3],
  );
});

test('a damaged record before the last is JOURNAL_CORRUPT naming its number', () => {
  const lines = journal().map(encodeRecord);
  lines[1] = lines[1]!.replace('"digit":"1"', '"digit":"2"');
  const err = throwsCode(() => readRecords(lines), 'JOURNAL_CORRUPT');
  assert.match(err.message, /record 2\b/);
  assert.equal(err.data.record, 2);
});

test('a record of a newer format version is JOURNAL_VERSION_UNSUPPORTED, even as the last line', () => {
  const newer = encodeRecord({ ...journal()[0]!, v: 3 });
  const err = throwsCode(() => decodeRecord(newer), 'JOURNAL_VERSION_UNSUPPORTED');
  assert.deepEqual(err.data, { version: 3, supported: 2 });
  // Not a torn write: dropping it would silently lose what a newer build wrote.
  const lines = [...journal(undefined, 1).map(encodeRecord), encodeRecord({ ...journal()[1]!, v: 3 })];
  const inList = throwsCode(() => readRecords(lines), 'JOURNAL_VERSION_UNSUPPORTED');
  assert.equal(inList.data.record, 2);
});

test('a missing sequence number is JOURNAL_GAP naming the record where it shows', () => {
  const records = journal();
  const lines = [records[0]!, records[1]!, records[3]!].map(encodeRecord);
  const err = throwsCode(() => readRecords(lines), 'JOURNAL_GAP');
  assert.match(err.message, /record 3\b/);
  assert.deepEqual(err.data, { record: 3, seq: 4, expected: 3 });
});

test('records of two calls in one journal are JOURNAL_CORRUPT', () => {
  const lines = [...journal('CA1', 2), journal('CA2', 3)[2]!].map(encodeRecord);
  const err = throwsCode(() => readRecords(lines), 'JOURNAL_CORRUPT');
  assert.equal(err.data.record, 3);
});

test('JSON lines text reads the same with or without a final newline', () => {
  const text = journal().map(encodeRecord).join('\n');
  const without = parseJsonLines(text);
  const withNewline = parseJsonLines(`${text}\n`);
  const withCrLf = parseJsonLines(`${text.replaceAll('\n', '\r\n')}\r\n`);
  assert.equal(without.records.length, 4);
  assert.deepEqual(withNewline, without);
  assert.deepEqual(withCrLf, without);
  assert.deepEqual(parseJsonLines(''), { records: [], tornTail: false });
  // A process killed mid-line leaves text with no final newline and a partial record.
  const torn = parseJsonLines(`${text}\n${encodeRecord({ ...journal()[0]!, seq: 5 }).slice(0, 30)}`);
  assert.equal(torn.tornTail, true);
  assert.equal(torn.records.length, 4);
});
