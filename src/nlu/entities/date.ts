import { MONTH_ABBREVIATIONS, MONTH_NAMES, WEEKDAY_NAMES } from '../../common/calendar.ts';
import { foldCase } from '../normalize.ts';
import { ORDINAL_TEENS, ORDINAL_UNITS, TEENS, TENS, UNITS, parseBelowHundred } from './words.ts';

// ISO dates and US slash dates stay whole tokens; "3rd" keeps its suffix so it reads as an ordinal.
const TOKEN =
  /[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{1,2}\/[0-9]{1,2}(?:\/[0-9]{2,4})?|[0-9]+(?:st|nd|rd|th)?|\p{L}+/gu;

/** Month words (full names and abbreviations) to month numbers from 1. */
const MONTHS: ReadonlyMap<string, number> = new Map([
  ...MONTH_NAMES.map((name, i) => [name.toLowerCase(), i + 1] as const),
  ...[...MONTH_ABBREVIATIONS].map(([word, i]) => [word, i + 1] as const),
]);

/** Weekday names to JavaScript's day numbers (Sunday 0); full names only (see calendar.ts). */
const WEEKDAYS: ReadonlyMap<string, number> = new Map(
  WEEKDAY_NAMES.map((name, i) => [name.toLowerCase(), i]),
);

const RELATIVE: ReadonlyMap<string, number> = new Map([
  ['today', 0],
  ['tonight', 0],
  ['tomorrow', 1],
  ['yesterday', -1],
]);

const UNSUPPORTED_BEFORE = new Set(['from', 'after', 'before', 'last', 'past', 'since']);

interface Ymd {
  y: number;
  m: number;
  d: number;
}

function isValid({ y, m, d }: Ymd): boolean {
  if (!Number.isInteger(y) || y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function format({ y, m, d }: Ymd): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function addDays({ y, m, d }: Ymd, days: number): Ymd {
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

function compare(a: Ymd, b: Ymd): number {
  return a.y - b.y || a.m - b.m || a.d - b.d;
}

/** Parses "YYYY-MM-DD"; null when it is not a real date. */
export function parseIsoDate(text: string): Ymd | null {
  const m = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$/.exec(text);
  if (m === null) return null;
  const date = { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
  return isValid(date) ? date : null;
}

/** The first month/day on or after today, trying later years for February 29. */
function nextMonthDay(today: Ymd, m: number, d: number): Ymd | null {
  for (let y = today.y; y <= today.y + 8; y++) {
    const date = { y, m, d };
    if (isValid(date) && compare(date, today) >= 0) return date;
  }
  return null;
}

/** The first date on or after today with this day of the month ("the 31st" skips short months). */
function nextDayOfMonth(today: Ymd, d: number): Ymd | null {
  for (let k = 0; k <= 12; k++) {
    const m0 = today.m - 1 + k;
    const date = { y: today.y + Math.floor(m0 / 12), m: (m0 % 12) + 1, d };
    if (isValid(date) && compare(date, today) >= 0) return date;
  }
  return null;
}

interface Day {
  day: number;
  end: number;
  ordinal: boolean;
}

/** A day of the month at token i: "3", "3rd", "third", "twenty first", and with cardinals "twenty five". */
function parseDay(tokens: readonly string[], i: number, cardinals: boolean): Day | null {
  const w = tokens[i];
  if (w === undefined) return null;
  const numeric = /^([0-9]{1,2})(st|nd|rd|th)?$/.exec(w);
  if (numeric !== null) return dayIfValid(Number(numeric[1]), i + 1, numeric[2] !== undefined);
  const ordinal = ORDINAL_UNITS.get(w) ?? ORDINAL_TEENS.get(w);
  if (ordinal !== undefined) return dayIfValid(ordinal, i + 1, true);
  const tens = TENS.get(w);
  if (tens === 20 || tens === 30) {
    const next = tokens[i + 1] ?? '';
    const ordinalOnes = ORDINAL_UNITS.get(next);
    if (ordinalOnes !== undefined) return dayIfValid(tens + ordinalOnes, i + 2, true);
    const ones = UNITS.get(next);
    if (cardinals && ones !== undefined && ones > 0) return dayIfValid(tens + ones, i + 2, false);
    if (cardinals) return dayIfValid(tens, i + 1, false);
    return null;
  }
  const small = UNITS.get(w) ?? TEENS.get(w);
  return cardinals && small !== undefined ? dayIfValid(small, i + 1, false) : null;
}

function dayIfValid(day: number, end: number, ordinal: boolean): Day | null {
  return day >= 1 && day <= 31 ? { day, end, ordinal } : null;
}

/**
 * A year at token i, as in "march 3rd 2027": four digits, or spoken in this century as "twenty twenty seven",
 * "twenty oh five" or "two thousand (and) seven". Other centuries spoken are not read ("nineteen ninety").
 */
function parseYear(tokens: readonly string[], i: number): number | null {
  const w = tokens[i];
  if (w !== undefined && /^[0-9]{4}$/.test(w)) return Number(w);
  if (w === 'twenty') {
    const rest = parseBelowHundred(tokens, i + 1);
    if (rest !== null && rest.value >= 10) return 2000 + rest.value;
    const ones = tokens[i + 1] === 'oh' ? UNITS.get(tokens[i + 2] ?? '') : undefined;
    return ones !== undefined && ones > 0 ? 2000 + ones : null;
  }
  if (w === 'two' && tokens[i + 1] === 'thousand') {
    const at = tokens[i + 2] === 'and' ? i + 3 : i + 2;
    return 2000 + (parseBelowHundred(tokens, at)?.value ?? 0);
  }
  return null;
}

function monthDay(today: Ymd, m: number, d: number, year: number | null): Ymd | null {
  if (year === null) return nextMonthDay(today, m, d);
  const date = { y: year, m, d };
  return isValid(date) ? date : null;
}

/** The date an expression at token i names, if one starts there. */
function dateAt(tokens: readonly string[], i: number, today: Ymd): Ymd | null | undefined {
  const w = tokens[i] ?? '';
  if (/^[0-9]{4}-/.test(w)) return parseIsoDate(w);
  const slash = /^([0-9]{1,2})\/([0-9]{1,2})(?:\/([0-9]{2,4}))?$/.exec(w);
  if (slash !== null) {
    // US order only; "14/3" is null rather than silently read day-first.
    if (slash[3]?.length === 3) return null;
    const year =
      slash[3] === undefined ? null : slash[3].length === 2 ? 2000 + Number(slash[3]) : Number(slash[3]);
    return monthDay(today, Number(slash[1]), Number(slash[2]), year);
  }
  if (w === 'day' && tokens[i + 1] === 'after' && tokens[i + 2] === 'tomorrow') return addDays(today, 2);
  // "a week from today", "the day after monday", "last monday": anchored elsewhere than the rules know.
  if ((RELATIVE.has(w) || WEEKDAYS.has(w)) && UNSUPPORTED_BEFORE.has(tokens[i - 1] ?? '')) return null;
  const relative = RELATIVE.get(w);
  if (relative !== undefined) return addDays(today, relative);
  const weekday = WEEKDAYS.get(w);
  if (weekday !== undefined) {
    // "friday the 4th", "monday december 7th": the date said after the weekday decides, even when the two
    // disagree, since a caller reads a date off a calendar more reliably than they name its weekday.
    const at = tokens[i + 1] === 'the' ? i + 2 : i + 1;
    if (MONTHS.has(tokens[at] ?? '') || (at === i + 2 && parseDay(tokens, at, false)?.ordinal === true)) {
      const said = dateAt(tokens, at, today);
      if (said !== undefined) return said;
    }
    // "monday", "this monday" and "next monday" all mean the first Monday after today.
    const current = new Date(Date.UTC(today.y, today.m - 1, today.d)).getUTCDay();
    return addDays(today, ((weekday - current + 6) % 7) + 1);
  }
  const month = MONTHS.get(w);
  if (month !== undefined) {
    const at = tokens[i + 1] === 'the' ? i + 2 : i + 1;
    const day = parseDay(tokens, at, true);
    if (day !== null) return monthDay(today, month, day.day, parseYear(tokens, day.end));
    return undefined;
  }
  const day = parseDay(tokens, i, false);
  if (day !== null) {
    const at = tokens[day.end] === 'of' ? day.end + 1 : day.end;
    const after = MONTHS.get(tokens[at] ?? '');
    if (after !== undefined) return monthDay(today, after, day.day, parseYear(tokens, at + 1));
    // A day alone must be an ordinal after "the": "on the third", not "3 people".
    if (day.ordinal && tokens[i - 1] === 'the') return nextDayOfMonth(today, day.day);
  }
  return undefined;
}

/**
 * The first date the utterance names, as YYYY-MM-DD, or null. A month and day without a year is the next
 * such date on or after today; a weekday is the next one after today.
 */
export function extractDate(text: string, todayText: string): string | null {
  const today = parseIsoDate(todayText);
  // A malformed context date gives no date rather than an exception in the middle of a call.
  if (today === null) return null;
  const tokens = foldCase(text).match(TOKEN) ?? [];
  for (let i = 0; i < tokens.length; i++) {
    const date = dateAt(tokens, i, today);
    if (date !== undefined) return date === null ? null : format(date);
  }
  return null;
}
