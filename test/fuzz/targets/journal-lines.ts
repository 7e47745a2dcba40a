/**
 * Journals as fuzz inputs: JSON lines of records, generated from typed records and re-signed after mutation
 * (each line's CRC computed again), so a mutant gets past the checksum to the checks behind it. Shared by the
 * journal target (decoding) and the replay target (what `switchboard replay` and recovery do with the records).
 */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { encodeRecord, type JournalEntry, type JournalRecord } from '../../../src/journal/records.ts';

const CRC_TAIL = /,"crc":"[^"]*"\}$/;

/** Each line that is a JSON object gets the CRC of its text again; other lines are left as they are. */
export function resign(input: Buffer): Buffer {
  const lines = input.toString('utf8').split('\n');
  return Buffer.from(
    lines
      .map((line) => {
        const body = line.replace(CRC_TAIL, '}');
        if (!body.startsWith('{') || !body.endsWith('}') || body.length < 2) return line;
        return `${body.slice(0, -1)},"crc":"${crc32(body).toString(16).padStart(8, '0')}"}`;
      })
      .join('\n'),
  );
}

const payload = fc.oneof(
  fc.record({ type: fc.constantFrom('dtmf'), digit: fc.constantFrom('1', '2', '#', '0') }),
  fc.record({ type: fc.constant('played'), mark: fc.string({ maxLength: 8 }) }),
  fc.record({ type: fc.constant('timer'), id: fc.constantFrom('t1', 't2', 'x') }),
  fc.record({
    type: fc.constant('utterance'),
    text: fc.string({ maxLength: 20 }),
    intent: fc.option(fc.constantFrom('yes', 'no', 'order', 'operator'), { nil: null }),
    confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    entities: fc.dictionary(fc.constantFrom('size', 'number', 'date'), fc.string({ maxLength: 6 })),
    at: fc.nat(),
  }),
  fc.record({ type: fc.constantFrom('call.start', 'resume', 'hangup', 'giveUp'), at: fc.nat() }),
  fc.record({ type: fc.string({ maxLength: 10 }) }),
);

const entry: fc.Arbitrary<JournalEntry> = fc.oneof(
  fc.record({
    kind: fc.constant('start' as const),
    flow: fc.constantFrom('pizza', 'demo', 'support', 'nope'),
    flowVersion: fc.integer({ min: 0, max: 4 }),
    modelVersion: fc.option(fc.stringMatching(/^[0-9a-f]{16}$/), { nil: null }),
    params: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  }),
  fc.record({ kind: fc.constant('in' as const), event: payload }),
  fc.record({ kind: fc.constant('eff' as const), key: fc.string({ maxLength: 12 }), effect: payload }),
  fc.record({
    kind: fc.constant('state' as const),
    in: fc.nat({ max: 40 }),
    state: fc.string({ maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('timer' as const), id: fc.string({ maxLength: 4 }), deadline: fc.nat() }),
  fc.record({
    kind: fc.constant('snap' as const),
    upTo: fc.nat({ max: 40 }),
    snapshot: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({
    kind: fc.constant('crash' as const),
    in: fc.nat({ max: 40 }),
    code: fc.string({ maxLength: 12 }),
  }),
  fc.record({ kind: fc.constant('end' as const), reason: fc.string({ maxLength: 12 }) }),
);

/** A journal of one call: a start record, then any records, numbered in order; sometimes torn at the end. */
export const journalText: fc.Arbitrary<Buffer> = fc
  .record({
    callId: fc.constantFrom('CA1', 'CA0123456789abcdef0123456789abcdef', ''),
    first: entry,
    rest: fc.array(entry, { maxLength: 16 }),
    tear: fc.option(fc.nat(), { nil: null }),
  })
  .map(({ callId, first, rest, tear }) => {
    const records = [first, ...rest].map((e, i): JournalRecord => ({
      ...e,
      v: 1,
      callId,
      seq: i + 1,
      at: 1_700_000_000_000 + i * 10,
    }));
    let text = records.map(encodeRecord).join('\n');
    if (tear !== null) text = text.slice(0, text.length - (tear % 40));
    return Buffer.from(text);
  });

/** Keys and values the mutator splices into journals. */
export const JOURNAL_WORDS: readonly string[] = [
  '"kind"',
  '"start"',
  '"in"',
  '"eff"',
  '"state"',
  '"timer"',
  '"snap"',
  '"crash"',
  '"end"',
  '"event"',
  '"effect"',
  '"type"',
  '"seq"',
  '"callId"',
  '"v":2',
  '"v":1',
  '"at"',
  '"crc":"00000000"',
  '"snapshot"',
  '"upTo"',
  '"deadline"',
  '"flowVersion"',
  '"utterance"',
  '"dtmf"',
  '"played"',
];
