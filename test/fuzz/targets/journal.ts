/**
 * Fuzz target: journal records as the stores and `switchboard calls export` hold them. An input is a journal's
 * JSON lines. Decoding (parseJsonLines, readRecords, decodeRecord) may only throw JOURNAL_CORRUPT, JOURNAL_GAP
 * or JOURNAL_VERSION_UNSUPPORTED. Every record that decodes must encode and decode to itself (as far as JSON
 * keeps numbers); a journal that reads cleanly must read with its last record cut short as a torn tail, and
 * with a record before the last damaged as JOURNAL_CORRUPT.
 */
import { isDeepStrictEqual } from 'node:util';
import { SwitchboardError } from '../../../src/errors.ts';
import { decodeRecord, encodeRecord, parseJsonLines, readRecords } from '../../../src/journal/records.ts';
import { check, typed, type FuzzTarget } from '../target.ts';
import { JOURNAL_WORDS, journalText, resign } from './journal-lines.ts';

const DECODE = new Set(['JOURNAL_CORRUPT', 'JOURNAL_GAP', 'JOURNAL_VERSION_UNSUPPORTED'] as const);

function run(input: Buffer): void {
  const text = input.toString('utf8');
  const lines = text.split('\n');
  for (const line of lines) {
    const record = typed(DECODE, () => decodeRecord(line));
    if (record === undefined) continue;
    // JSON itself is lossy past the doubles (1e999 reads as Infinity, written as null): compare with that.
    const again = decodeRecord(encodeRecord(record));
    check(
      isDeepStrictEqual(again, JSON.parse(JSON.stringify(record))),
      'a record did not survive encode and decode',
    );
  }
  typed(DECODE, () => readRecords(lines));
  const journal = typed(DECODE, () => parseJsonLines(text));
  if (!journal || journal.tornTail || journal.records.length < 2) return;

  // The negative controls: a write cut short is a torn tail, damage before the end is corruption.
  const kept = text.split('\n').filter((l) => l.trim() !== '');
  const half = kept.at(-1)!.slice(0, Math.ceil(kept.at(-1)!.length / 2));
  if (half.trim() === '') return;
  const torn = parseJsonLines([...kept.slice(0, -1), half].join('\n'));
  check(
    torn.tornTail && torn.records.length === journal.records.length - 1,
    'a torn last record was not dropped',
  );
  const damaged = [...kept];
  const first = damaged[0]!;
  const at = Math.floor(first.length / 2);
  damaged[0] = first.slice(0, at) + (first[at] === 'x' ? 'y' : 'x') + first.slice(at + 1);
  try {
    parseJsonLines(damaged.join('\n'));
  } catch (err) {
    if (err instanceof SwitchboardError && err.code === 'JOURNAL_CORRUPT') return;
    throw err;
  }
  check(false, 'a damaged first record was read as good');
}

export const journal: FuzzTarget = {
  name: 'journal',
  format: 'jsonl',
  arbitrary: journalText,
  dictionary: JOURNAL_WORDS,
  maxBytes: 16_384,
  repair: resign,
  run,
};
