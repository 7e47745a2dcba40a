/**
 * A campaign's CSV file, read as rows: RFC 4180 (quoted fields holding commas, doubled quotes and newlines; CRLF,
 * LF or CR line ends; a UTF-8 BOM skipped), streamed in chunks with bounded memory, so a file of a million numbers
 * costs no more than one of ten. The first record names the columns; a header that cannot (no header, an empty or
 * repeated name) is a CAMPAIGN_INVALID error. Every later record is a row of named fields, or an error row saying
 * what is wrong with it (wrong field count, too long, a quote never closed) so the campaign reports it and goes on.
 * Field values are personal data: error rows never quote them. Blank lines, and rows of only empty fields (what
 * spreadsheets write for an empty row), are skipped.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { SwitchboardError } from '../errors.ts';

/**
 * A row after the header: its fields by column name, or what is wrong with it. `line` is the physical line (from 1)
 * where the record starts, which is what a spreadsheet shows and what a report of bad rows should name.
 */
export type CsvRow = { line: number; fields: Record<string, string> } | { line: number; error: string };

export interface CsvReadOptions {
  /** A record longer than this (in characters, quotes and commas included) is an error row, never buffered. */
  maxLineChars?: number;
  signal?: AbortSignal;
}

export const DEFAULT_MAX_LINE_CHARS = 16 * 1024;

/** The rows of a CSV file after its header, streamed; CAMPAIGN_INVALID when it has no usable header. */
export async function* readCsvRows(path: string, options: CsvReadOptions = {}): AsyncGenerator<CsvRow> {
  const max = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw invalid(`maxLineChars must be a whole number above zero, not ${max}`);
  }
  const splitter = new RecordSplitter(max);
  let header: string[] | null = null;
  let first = true;
  const rows = function* (records: RawRecord[]): Generator<CsvRow> {
    for (const record of records) {
      if ('fields' in record && isBlank(record.fields)) continue;
      if (header === null) header = headerOf(record);
      else yield rowOf(record, header);
    }
  };
  try {
    for await (const chunk of createReadStream(path, { encoding: 'utf8', signal: options.signal })) {
      let text = chunk as string;
      if (first && text.charCodeAt(0) === BOM) text = text.slice(1);
      first = false;
      yield* rows(splitter.push(text));
    }
  } catch (err) {
    throw unreadable(path, err);
  }
  yield* rows(splitter.end());
  if (header === null) throw invalid('the file is empty: its first line must name the columns', { path });
}

/** The sha256 (hex) of a file's bytes, streamed: names a campaign by the file it calls from. */
export async function campaignRowsHash(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
  } catch (err) {
    throw unreadable(path, err);
  }
  return hash.digest('hex');
}

/** One record as the splitter found it: its fields in order, or what is wrong with it. */
type RawRecord = { line: number; fields: string[] } | { line: number; error: string };

const BOM = 0xfeff;
const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/** Where the splitter is inside a record. */
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** A quote seen inside a quoted field: a second quote makes it literal; anything else closes the field. */
const QUOTE_SEEN = 3;

/**
 * Splits text, fed in chunks, into records. Field text is appended a run at a time (a slice from the run's start
 * to a delimiter or the chunk's end) rather than a character at a time. Once a record passes the length limit its
 * fields are dropped but the quotes are still followed, so the next record starts where RFC 4180 says it does.
 */
class RecordSplitter {
  readonly #max: number;
  #state = FIELD_START;
  #fields: string[] = [];
  #field = '';
  /** Characters of the current record so far; 0 until it has one. */
  #chars = 0;
  /** The physical line of the character being read. */
  #line = 1;
  #start = 1;
  /** The last character was a CR: an LF right after it is the same line end. */
  #afterCR = false;
  /** The record went past the limit: its text is no longer kept. */
  #overlong = false;
  #error: string | null = null;

  constructor(max: number) {
    this.#max = max;
  }

  push(s: string): RawRecord[] {
    const out: RawRecord[] = [];
    let run = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const wasCR = this.#afterCR;
      this.#afterCR = c === CR;
      if (c === LF && wasCR && this.#state !== QUOTED) continue; // the CR already ended the record
      const lineEnd = c === CR || c === LF;
      switch (this.#state) {
        case FIELD_START:
          if (lineEnd) {
            if (this.#chars > 0) this.#endRecord('', out);
            break;
          }
          this.#count();
          if (c === QUOTE) {
            this.#state = QUOTED;
            run = i + 1;
          } else if (c === COMMA) {
            this.#endField('');
          } else {
            this.#state = UNQUOTED;
            run = i;
          }
          break;
        case UNQUOTED:
          if (lineEnd) {
            this.#endRecord(s.slice(run, i), out);
            break;
          }
          this.#count();
          if (c === COMMA) this.#endField(s.slice(run, i));
          break;
        case QUOTED:
          this.#count();
          if (c === QUOTE) {
            this.#append(s.slice(run, i));
            this.#state = QUOTE_SEEN;
          }
          break;
        case QUOTE_SEEN:
          if (lineEnd) {
            this.#endRecord('', out);
            break;
          }
          this.#count();
          if (c === QUOTE) {
            this.#append('"');
            this.#state = QUOTED;
            run = i + 1;
          } else if (c === COMMA) {
            this.#endField('');
          } else {
            this.#error ??= `field ${this.#fields.length + 1} has text after its closing quote`;
            this.#state = UNQUOTED;
            run = i;
          }
          break;
      }
      if (c === CR || (c === LF && !wasCR)) this.#line++;
    }
    if (this.#state === UNQUOTED || this.#state === QUOTED) this.#append(s.slice(run));
    return out;
  }

  /** The last record, when the file does not end with a line end. */
  end(): RawRecord[] {
    const out: RawRecord[] = [];
    if (this.#state === QUOTED) {
      out.push({
        line: this.#start,
        error: 'a quoted field starting here is never closed: the file ends inside it',
      });
    } else if (this.#chars > 0) {
      this.#endRecord('', out);
    }
    return out;
  }

  #count(): void {
    if (this.#chars++ === 0) this.#start = this.#line;
    if (this.#chars > this.#max && !this.#overlong) {
      this.#overlong = true;
      this.#fields = [];
      this.#field = '';
    }
  }

  #append(text: string): void {
    if (!this.#overlong) this.#field += text;
  }

  #endField(text: string): void {
    if (!this.#overlong) this.#fields.push(this.#field + text);
    this.#field = '';
    this.#state = FIELD_START;
  }

  #endRecord(text: string, out: RawRecord[]): void {
    this.#endField(text);
    const line = this.#start;
    if (this.#overlong) out.push({ line, error: `the record is over ${this.#max} characters long` });
    else if (this.#error !== null) out.push({ line, error: this.#error });
    else out.push({ line, fields: this.#fields });
    this.#fields = [];
    this.#chars = 0;
    this.#overlong = false;
    this.#error = null;
  }
}

function isBlank(fields: string[]): boolean {
  return fields.every((f) => f.trim() === '');
}

function headerOf(record: RawRecord): string[] {
  if ('error' in record) throw invalid(`the header (line ${record.line}): ${record.error}`);
  const names = record.fields.map((f) => f.trim());
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (name === '') throw invalid(`column ${i + 1} of the header has no name`);
    if (seen.has(name)) throw invalid(`the header names the column "${name}" twice`);
    seen.add(name);
  });
  return names;
}

function rowOf(record: RawRecord, header: string[]): CsvRow {
  if ('error' in record) return record;
  const n = record.fields.length;
  if (n !== header.length) {
    return { line: record.line, error: `${n} field${n === 1 ? '' : 's'}, the header has ${header.length}` };
  }
  // fromEntries makes own properties, so a column named __proto__ is a field like any other.
  return {
    line: record.line,
    fields: Object.fromEntries(header.map((name, i) => [name, record.fields[i]!])),
  };
}

/** A file that cannot be opened or read is the campaign's problem; an abort passes through as it is. */
function unreadable(path: string, err: unknown): unknown {
  const sys = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || sys.syscall === undefined) return err;
  return new SwitchboardError(
    'CAMPAIGN_INVALID',
    `cannot read ${path} (${sys.code})`,
    { path },
    { cause: err },
  );
}

function invalid(detail: string, data: Record<string, unknown> = {}): SwitchboardError {
  return new SwitchboardError('CAMPAIGN_INVALID', detail, data);
}
