/**
 * IANA time zones as Intl knows them: whether a name is one, and what a wall clock there reads at an instant.
 * Intl applies the zone's daylight saving rules, so nothing here adds or subtracts offsets by hand. Formatters
 * are cached per zone (a campaign of 100,000 rows names a handful of zones, and building one costs more than
 * using it); the cache is bounded because a CSV column may hold any number of distinct names.
 */
import { SwitchboardError } from '../errors.ts';

/** The local date and time in a zone, to the minute; month and day from 1, hour 0 to 23. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const MAX_CACHED = 256;
const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Whether `name` is a time zone Intl knows by name ("America/New_York", "UTC"; case-insensitive). An offset such
 * as "+05:00" is not one: newer runtimes take it, older ones do not, and it keeps no daylight saving time.
 */
export function isTimeZone(name: string): boolean {
  return /^[A-Za-z]/.test(name) && formatter(name) !== null;
}

/** A --timezone option, checked: the name as given, or CAMPAIGN_INVALID. */
export function parseTimeZone(text: string): string {
  const name = text.trim();
  if (!isTimeZone(name)) {
    throw new SwitchboardError(
      'CAMPAIGN_INVALID',
      `"${text}" is not a time zone: use an IANA name such as America/New_York or Europe/London`,
    );
  }
  return name;
}

/** What a clock in `timeZone` reads at `at`; CAMPAIGN_INVALID for a zone Intl does not know. */
export function wallClock(at: Date, timeZone: string): WallClock {
  const f = formatter(timeZone);
  if (f === null) throw new SwitchboardError('CAMPAIGN_INVALID', `"${timeZone}" is not a time zone`);
  const clock: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0 };
  for (const part of f.formatToParts(at)) {
    if (part.type in clock) clock[part.type as keyof WallClock] = Number(part.value);
  }
  return clock;
}

/** How far the zone's clocks are ahead of UTC at `at`, in minutes (-300 for New York in winter). */
export function utcOffsetMinutes(at: Date, timeZone: string): number {
  const c = wallClock(at, timeZone);
  const local = Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute);
  return Math.round((local - Math.floor(at.getTime() / 60_000) * 60_000) / 60_000);
}

function formatter(timeZone: string): Intl.DateTimeFormat | null {
  const cached = formatters.get(timeZone);
  if (cached !== undefined) return cached;
  let made: Intl.DateTimeFormat;
  try {
    // h23, not hour12: false, which some ICU versions render as "24" for the hour after midnight.
    made = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
  if (formatters.size >= MAX_CACHED) formatters.clear();
  formatters.set(timeZone, made);
  return made;
}
