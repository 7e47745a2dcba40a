/**
 * A campaign row as what a dial needs: the number to call (E.164, with the spaces, dashes, dots and parentheses
 * people write in numbers taken out), the callee's time zone when the file gives one, and every other column as a
 * flow variable (`{{call.vars.first_name}}` for a column "first name"). Problems with the header (no number
 * column, two columns making one variable) are CAMPAIGN_INVALID from `dialColumns`, once per file; problems with
 * a row are an `{ error }` naming the column, never quoting its value, which is personal data.
 */
import { isE164 } from '../common/e164.ts';
import { SwitchboardError } from '../errors.ts';
import { MAX_VAR_CHARS, MAX_VARS } from '../outbound/dial-request.ts';
import { isTimeZone } from './time-zone.ts';

/** The columns to read the number and the time zone from, when not the usual names. */
export interface ColumnNames {
  number?: string;
  timezone?: string;
}

/** Which column is which, worked out once from the header. */
export interface DialColumns {
  number: string;
  timezone: string | null;
  /** Every other column, with the variable name it becomes. */
  vars: ReadonlyMap<string, string>;
}

export type RowDial =
  { to: string; timezone: string | null; vars: Record<string, string> } | { error: string };

/** The names looked for, in order, when the column is not named. */
const NUMBER_COLUMNS = ['number', 'to', 'phone'];
const TIMEZONE_COLUMNS = ['timezone', 'tz'];
/** What people put between the digits of a number. */
const NUMBER_PUNCTUATION = /[\s\-.()]/g;
const NOT_NAME = /[^A-Za-z0-9_]+/;
const COMBINING_MARKS = /[\u0300-\u036f]/g;

/** The columns of a header (as `readCsvRows` gives them, trimmed) for dialing; CAMPAIGN_INVALID when unusable. */
export function dialColumns(header: readonly string[], names: ColumnNames = {}): DialColumns {
  const number = pick(header, names.number, NUMBER_COLUMNS);
  if (number === null) {
    throw invalid(
      names.number === undefined
        ? `no column holds the numbers to call: name it ${NUMBER_COLUMNS.map((n) => `"${n}"`).join(', ')} or say which it is`
        : `there is no column "${names.number}" (columns: ${header.join(', ')})`,
    );
  }
  const timezone = pick(header, names.timezone, TIMEZONE_COLUMNS);
  if (timezone === null && names.timezone !== undefined) {
    throw invalid(`there is no column "${names.timezone}" (columns: ${header.join(', ')})`);
  }
  const vars = new Map<string, string>();
  const columnOf = new Map<string, string>();
  for (const column of header) {
    if (column === number || column === timezone) continue;
    const name = varName(column);
    if (name === '') throw invalid(`column "${column}" has no letters or digits to name a variable with`);
    const other = columnOf.get(name);
    if (other !== undefined)
      throw invalid(`columns "${other}" and "${column}" would both be variable ${name}`);
    columnOf.set(name, column);
    vars.set(column, name);
  }
  if (vars.size > MAX_VARS) throw invalid(`${vars.size} variable columns; a call takes at most ${MAX_VARS}`);
  return { number, timezone, vars };
}

/**
 * A row's fields as a dial, or the first thing wrong with them. Takes the column names, or the columns
 * `dialColumns` already worked out (a campaign does that once, to stop at a bad header before any call).
 */
export function rowToDial(
  fields: Readonly<Record<string, string>>,
  columns: ColumnNames | DialColumns = {},
): RowDial {
  let resolved: DialColumns;
  try {
    resolved = 'vars' in columns ? columns : dialColumns(Object.keys(fields), columns);
  } catch (err) {
    if (err instanceof SwitchboardError) return { error: err.message };
    throw err;
  }
  const to = normalizeNumber(fields[resolved.number] ?? '');
  if (to === null) {
    return {
      error: `column "${resolved.number}" is not a phone number in E.164 form (+ and 7 to 15 digits, e.g. +15551234567)`,
    };
  }
  let timezone: string | null = null;
  if (resolved.timezone !== null) {
    const zone = (fields[resolved.timezone] ?? '').trim();
    if (zone !== '' && !isTimeZone(zone)) {
      return {
        error: `column "${resolved.timezone}" is not a time zone (an IANA name such as America/New_York)`,
      };
    }
    timezone = zone === '' ? null : zone;
  }
  const vars: Record<string, string> = {};
  for (const [column, name] of resolved.vars) {
    const value = (fields[column] ?? '').trim();
    if (value === '') continue;
    if (value.length > MAX_VAR_CHARS)
      return { error: `column "${column}" is over ${MAX_VAR_CHARS} characters` };
    vars[name] = value;
  }
  return { to, timezone, vars };
}

/** A number in E.164 once the punctuation people write in it is gone ("+1 (555) 123-4567"); null if not. */
export function normalizeNumber(text: string): string | null {
  const number = text.replace(NUMBER_PUNCTUATION, '');
  return isE164(number) ? number : null;
}

/**
 * A column name as a variable name: letters (accents dropped), digits and `_`, each run of anything else one `_`
 * ("first name" -> first_name, "Amount ($)" -> Amount), with a `_` before a leading digit. Empty if nothing is left.
 */
export function varName(column: string): string {
  const name = column
    .normalize('NFKD')
    .replace(COMBINING_MARKS, '')
    .split(NOT_NAME)
    .filter((part) => part !== '')
    .join('_');
  return /^\d/.test(name) ? `_${name}` : name;
}

/** The column named, or else the first of the usual names present (exactly, then in any case). */
function pick(header: readonly string[], named: string | undefined, usual: string[]): string | null {
  const wanted = named === undefined ? usual : [named];
  for (const name of wanted) {
    const found =
      header.find((c) => c === name) ?? header.find((c) => c.toLowerCase() === name.toLowerCase());
    if (found !== undefined) return found;
  }
  return null;
}

function invalid(detail: string): SwitchboardError {
  return new SwitchboardError('CAMPAIGN_INVALID', detail);
}
