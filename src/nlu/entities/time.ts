import { foldCase } from '../normalize.ts';
import { UNITS, TEENS, parseBelowHundred } from './words.ts';

// "3:30" stays one token; "3pm" splits into "3" and "pm" because digits and letters are separate tokens.
const TOKEN = /[0-9]{1,2}:[0-9]{2}|[0-9]+|\p{L}+/gu;

type Daypart = 'am' | 'pm' | 'night';

const BARE_HOUR_AFTER: ReadonlySet<string> = new Set(['at', 'around', 'by']);

interface HourMinute {
  h: number;
  m: number;
}

/** Spoken hours are 1..12; written ones may be 24-hour. */
function parseHour(tokens: readonly string[], i: number): { h: number; end: number } | null {
  const w = tokens[i];
  if (w === undefined) return null;
  if (/^[0-9]{1,2}$/.test(w)) return Number(w) <= 23 ? { h: Number(w), end: i + 1 } : null;
  const h = UNITS.get(w) ?? TEENS.get(w);
  return h !== undefined && h >= 1 && h <= 12 ? { h, end: i + 1 } : null;
}

/** Minutes said after the hour: "oh five", "fifteen", "forty five", or written "30". */
function parseMinutes(tokens: readonly string[], i: number): { m: number; end: number } | null {
  const w = tokens[i];
  if (w === undefined) return null;
  if (/^[0-9]{2}$/.test(w)) return Number(w) <= 59 ? { m: Number(w), end: i + 1 } : null;
  if (w === 'oh' || w === 'o') {
    const unit = UNITS.get(tokens[i + 1] ?? '');
    return unit !== undefined && unit > 0 ? { m: unit, end: i + 2 } : null;
  }
  const spoken = parseBelowHundred(tokens, i);
  return spoken !== null && spoken.value >= 10 && spoken.value <= 59
    ? { m: spoken.value, end: spoken.end }
    : null;
}

/**
 * The minutes before "past" or "to": "quarter", "half", "ten", "twenty five minutes". A bare count must be
 * a multiple of five or say "minutes", so a range like "two to three" is not read as 2:58.
 */
function parseOffset(tokens: readonly string[], i: number): { m: number; end: number } | null {
  const j = tokens[i] === 'a' ? i + 1 : i;
  if (tokens[j] === 'quarter') return { m: 15, end: j + 1 };
  if (tokens[j] === 'half') return { m: 30, end: j + 1 };
  const w = tokens[j] ?? '';
  const count = /^[0-9]{1,2}$/.test(w) ? { value: Number(w), end: j + 1 } : parseBelowHundred(tokens, j);
  if (count === null || count.value < 1 || count.value > 59) return null;
  if (tokens[count.end] === 'minute' || tokens[count.end] === 'minutes')
    return { m: count.value, end: count.end + 1 };
  return /^[0-9]/.test(w) || count.value % 5 !== 0 ? null : { m: count.value, end: count.end };
}

/** "am", "p.m.", "in the morning", "this afternoon", "at night", "tonight" after a time. */
function parseDaypart(tokens: readonly string[], i: number): { part: Daypart; end: number } | null {
  const [a, b, c] = [tokens[i], tokens[i + 1], tokens[i + 2]];
  if (a === 'am') return { part: 'am', end: i + 1 };
  if (a === 'pm') return { part: 'pm', end: i + 1 };
  if (a === 'tonight') return { part: 'night', end: i + 1 };
  if (a === 'at' && b === 'night') return { part: 'night', end: i + 2 };
  const when = a === 'in' && b === 'the' ? c : a === 'this' ? b : undefined;
  const end = a === 'in' ? i + 3 : i + 2;
  if (when === 'morning') return { part: 'am', end };
  if (when === 'afternoon' || when === 'evening') return { part: 'pm', end };
  return null;
}

function applyDaypart({ h, m }: HourMinute, part: Daypart | undefined): HourMinute | null {
  if (part === undefined) return { h, m };
  if (h === 0 || h > 12) return part === 'am' ? null : { h, m };
  if (part === 'am') return { h: h % 12, m };
  if (part === 'night' && h === 12) return { h: 0, m };
  return { h: h === 12 ? 12 : h + 12, m };
}

/** The time an expression at token i names: null when it is malformed, undefined when none starts there. */
function timeAt(tokens: readonly string[], i: number): HourMinute | null | undefined {
  const w = tokens[i] ?? '';
  if (w === 'noon' || w === 'midday') return { h: 12, m: 0 };
  if (w === 'midnight') return { h: 0, m: 0 };

  const written = /^([0-9]{1,2}):([0-9]{2})$/.exec(w);
  if (written !== null) {
    const h = Number(written[1]);
    const m = Number(written[2]);
    if (h > 23 || m > 59) return null;
    return applyDaypart({ h, m }, parseDaypart(tokens, i + 1)?.part);
  }

  const offset = parseOffset(tokens, i);
  if (offset !== null) {
    const relation = tokens[offset.end] ?? '';
    const past = ['past', 'after'].includes(relation);
    const to = ['to', 'till', 'til', 'before', 'of'].includes(relation) && offset.m < 30;
    const hour = past || to ? parseHour(tokens, offset.end + 1) : null;
    if (hour !== null) {
      const end = tokens[hour.end] === 'oclock' ? hour.end + 1 : hour.end;
      const part = parseDaypart(tokens, end)?.part;
      const said = applyDaypart({ h: hour.h, m: 0 }, part);
      if (said === null) return null;
      const total = (said.h * 60 + (past ? offset.m : -offset.m) + 1440) % 1440;
      const h = Math.floor(total / 60);
      // Without am/pm, "quarter to one" stays on the 12-hour face: 12:45, not 00:45.
      return { h: part === undefined && h === 0 && hour.h > 0 ? 12 : h, m: total % 60 };
    }
  }

  const hour = parseHour(tokens, i);
  if (hour === null) return undefined;
  if (tokens[hour.end] === 'oclock' || (tokens[hour.end] === 'o' && tokens[hour.end + 1] === 'clock')) {
    const end = hour.end + (tokens[hour.end] === 'oclock' ? 1 : 2);
    return applyDaypart({ h: hour.h, m: 0 }, parseDaypart(tokens, end)?.part);
  }
  if (tokens[hour.end] === 'noon' && hour.h === 12) return { h: 12, m: 0 };
  if (tokens[hour.end] === 'midnight' && hour.h === 12) return { h: 0, m: 0 };
  const minutes = parseMinutes(tokens, hour.end);
  if (minutes !== null)
    return applyDaypart({ h: hour.h, m: minutes.m }, parseDaypart(tokens, minutes.end)?.part);
  const part = parseDaypart(tokens, hour.end);
  if (part !== null) return applyDaypart({ h: hour.h, m: 0 }, part.part);
  // A bare number is a time only after "at", "around" or "by": "at three", not "three people". Not after
  // "about" either: "about three" is as often a count as a time.
  if (BARE_HOUR_AFTER.has(tokens[i - 1] ?? '')) return { h: hour.h, m: 0 };
  return undefined;
}

/**
 * The first time the utterance names, as HH:MM on a 24-hour clock, or null. Without am/pm a spoken time
 * keeps the hour said ("half past two" is 02:30); choosing the next occurrence is the flow's business.
 */
export function extractTime(text: string): string | null {
  const prepared = foldCase(text)
    // "p.m.", "p. m." and, as engines also write it, "p m".
    .replace(/\b([ap])\.?\s?m\b\.?/g, '$1m')
    .replace(/\bo\s*'?\s*clock\b/g, 'oclock')
    // "at for" is "at four" misheard, and "at too" "at two": nothing else is said that way. "at to" is left.
    .replace(/\bat for\b/g, 'at four')
    .replace(/\bat too\b/g, 'at two');
  const tokens = prepared.match(TOKEN) ?? [];
  for (let i = 0; i < tokens.length; i++) {
    const time = timeAt(tokens, i);
    if (time === null) return null;
    if (time !== undefined) return `${String(time.h).padStart(2, '0')}:${String(time.m).padStart(2, '0')}`;
  }
  return null;
}
