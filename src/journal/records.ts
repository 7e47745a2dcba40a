/**
 * The call journal's record format: one JSON object per record, the same text in JSON lines files, SQLite rows
 * and PostgreSQL rows. Each record carries the format version, its sequence number within the call and a CRC-32
 * of the rest of its text, so a record cut short by a killed process, or altered by hand, is recognised as such
 * rather than misread.
 *
 * The journal does not know what a call's events and effects are: it carries them as objects with a `type`.
 */
import { crc32 } from 'node:zlib';
import { ErrorCodes, SwitchboardError } from '../errors.ts';

/** The format version of a record in clear, as this build writes it. */
export const JOURNAL_VERSION = 1;

/**
 * The format version of a record whose personal fields are sealed (sealing.ts): the newest this build reads. An
 * older build refuses such a record rather than misread it as one with empty fields.
 */
export const SEALED_VERSION = 2;

/** An event a call's machine received, or an effect it asked for: an object with a type, carried opaquely. */
export interface Payload {
  type: string;
  [key: string]: unknown;
}

export type JournalEntry =
  /** The call began: which flow version and intent model version it runs, and the parameters it started with. */
  | {
      kind: 'start';
      flow: string;
      flowVersion: number;
      modelVersion: string | null;
      params: Record<string, string>;
    }
  /** An event delivered to the call's machine, appended before the machine sees it. */
  | { kind: 'in'; event: Payload }
  /** An effect the machine asked for; `key` is the same whenever the same effect is asked for again. */
  | { kind: 'eff'; key: string; effect: Payload }
  /** The machine's state after it took the event in record `in`, journaled with that event's effects. */
  | { kind: 'state'; in: number; state: string }
  /** A no-input timer armed to fire at `deadline` (ms since the epoch): xstate does not persist delays. */
  | { kind: 'timer'; id: string; deadline: number }
  /** The machine's persisted snapshot after the `in` record numbered `upTo`. */
  | { kind: 'snap'; upTo: number; snapshot: unknown }
  /** The event in record `in` made the call's logic fail: it is never delivered again. */
  | { kind: 'crash'; in: number; code: string }
  /** The conversation is over; nothing resumes it. */
  | { kind: 'end'; reason: string }
  /**
   * A candidate model shadowing the live one (NLU_SHADOW) understood the utterance said at `turn` (its event's
   * `at`) differently: its version and answer. The call did not act on it; recovery and replay pass it by.
   */
  | { kind: 'shadow'; turn: number; version: string; intent: string | null; confidence: number };

export type JournalKind = JournalEntry['kind'];

/** A call's first record: the flow, at which version, that a resumed call must find loaded again. */
export type StartEntry = Extract<JournalEntry, { kind: 'start' }>;

/** A record as stored: an entry with its version, call, sequence number (from 1) and time (ms since the epoch). */
export type JournalRecord = JournalEntry & {
  v: number;
  callId: string;
  seq: number;
  at: number;
  /** As stored when sealed: the personal fields, encrypted, with the id of their key (sealing.ts). */
  sealed?: string;
  /** As read without the key: the id of the key the personal fields are sealed under; they are left out. */
  withheld?: string;
};

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPayload = (v: unknown): boolean => isObject(v) && typeof v.type === 'string';
const isRecordNumber = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The fields of each kind, checked on read: a record whose checksum holds may still have been written wrong or
 * edited and signed again, and recovery and replay take its fields as given.
 */
const KIND_FIELDS: Readonly<Record<JournalKind, (r: Fields) => boolean>> = {
  start: (r) =>
    typeof r.flow === 'string' &&
    Number.isFinite(r.flowVersion) &&
    (r.modelVersion === null || typeof r.modelVersion === 'string') &&
    isObject(r.params) &&
    Object.values(r.params).every((p) => typeof p === 'string'),
  in: (r) => isPayload(r.event),
  eff: (r) => typeof r.key === 'string' && isPayload(r.effect),
  state: (r) => isRecordNumber(r.in) && typeof r.state === 'string',
  timer: (r) => typeof r.id === 'string' && Number.isFinite(r.deadline),
  snap: (r) => isRecordNumber(r.upTo) && 'snapshot' in r,
  crash: (r) => isRecordNumber(r.in) && typeof r.code === 'string',
  end: (r) => typeof r.reason === 'string',
  shadow: (r) =>
    Number.isFinite(r.turn) &&
    typeof r.version === 'string' &&
    (r.intent === null || typeof r.intent === 'string') &&
    Number.isFinite(r.confidence),
};

/** One record as a line of text (no newline): its JSON with a `crc` field over the JSON before it. */
export function encodeRecord(record: JournalRecord): string {
  const body = JSON.stringify(record);
  return `${body.slice(0, -1)},"crc":"${checksum(body)}"}`;
}

/**
 * Read one line back. Throws JOURNAL_CORRUPT when it is not a whole record or its checksum does not match, and
 * JOURNAL_VERSION_UNSUPPORTED when a newer build wrote it.
 */
export function decodeRecord(line: string): JournalRecord {
  const m = /,"crc":"([0-9a-f]{8})"\}$/.exec(line);
  if (!m) throw corrupt('the record is cut short or has no checksum');
  const body = `${line.slice(0, m.index)}}`;
  if (checksum(body) !== m[1]) throw corrupt('the checksum does not match');
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw corrupt('the record is not JSON');
  }
  const r = value as Partial<JournalRecord> | null;
  if (typeof r !== 'object' || r === null || typeof r.v !== 'number')
    throw corrupt('the record has no version');
  if (r.v > SEALED_VERSION) {
    throw new SwitchboardError(
      'JOURNAL_VERSION_UNSUPPORTED',
      `record format ${r.v} is newer than this build reads (${SEALED_VERSION}); upgrade Switchboard`,
      { version: r.v, supported: SEALED_VERSION },
    );
  }
  if (
    typeof r.seq !== 'number' ||
    !Number.isInteger(r.seq) ||
    r.seq < 1 ||
    typeof r.callId !== 'string' ||
    !Number.isFinite(r.at) ||
    typeof r.kind !== 'string' ||
    !Object.hasOwn(KIND_FIELDS, r.kind)
  ) {
    throw corrupt('the record lacks a sequence number, call id, time or known kind');
  }
  if (!KIND_FIELDS[r.kind](r)) {
    throw corrupt(`the ${r.kind} record lacks a field of its kind, or has one of the wrong type`, {
      kind: r.kind,
    });
  }
  // Sealing reads these as text (sealing.ts).
  if (
    (r.sealed !== undefined && typeof r.sealed !== 'string') ||
    (r.withheld !== undefined && typeof r.withheld !== 'string')
  ) {
    throw corrupt('the record has a sealed or withheld field that is not text');
  }
  return r as JournalRecord;
}

export interface ReadJournal {
  records: JournalRecord[];
  /** The last record was cut short (a process killed mid-write) and was left out. */
  tornTail: boolean;
}

/**
 * Decode a call's records in order. A last record that does not decode is a write cut short and is dropped; one
 * anywhere else is corruption (JOURNAL_CORRUPT, naming the record). Sequence numbers must run 1, 2, 3...
 * (JOURNAL_GAP names the first missing one), and every record must belong to the same call.
 */
export function readRecords(lines: readonly string[]): ReadJournal {
  const records: JournalRecord[] = [];
  let tornTail = false;
  for (const [i, line] of lines.entries()) {
    let record: JournalRecord;
    try {
      record = decodeRecord(line);
    } catch (err) {
      const last = i === lines.length - 1;
      if (last && err instanceof SwitchboardError && err.code === 'JOURNAL_CORRUPT') {
        tornTail = true;
        break;
      }
      if (err instanceof SwitchboardError) {
        const detail = err.message.slice(ErrorCodes[err.code].length + 2);
        throw new SwitchboardError(err.code, `record ${i + 1}: ${detail}`, { ...err.data, record: i + 1 });
      }
      throw err;
    }
    const expected = records.length + 1;
    if (record.seq !== expected) {
      throw new SwitchboardError(
        'JOURNAL_GAP',
        `record ${i + 1} has sequence number ${record.seq}, expected ${expected}`,
        { record: i + 1, seq: record.seq, expected },
      );
    }
    if (records.length > 0 && record.callId !== records[0]!.callId) {
      throw corrupt(`record ${i + 1} belongs to another call`, { record: i + 1 });
    }
    records.push(record);
  }
  return { records, tornTail };
}

/** A JSON lines text (as exported, or as a file written by a process that was killed) split into records. */
export function parseJsonLines(text: string): ReadJournal {
  const lines = text.split('\n');
  // A final newline leaves an empty last element; blank lines elsewhere are not records.
  while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
  return readRecords(lines.map((l) => l.trimEnd()));
}

function checksum(text: string): string {
  return crc32(text).toString(16).padStart(8, '0');
}

function corrupt(detail: string, data: Record<string, unknown> = {}): SwitchboardError {
  return new SwitchboardError('JOURNAL_CORRUPT', detail, data);
}
