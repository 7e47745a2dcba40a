/**
 * Quiet hours: the part of each local day when a campaign places no calls ("21:00-08:00", which may wrap
 * midnight). Whether an instant is quiet depends on the callee's zone, read off its wall clock through Intl, so a
 * daylight saving change moves quiet hours with the clock and never by an hour. The start minute is quiet, the
 * end minute is not: 21:00-08:00 allows a call at 08:00 sharp.
 */
import { SwitchboardError } from '../errors.ts';
import { utcOffsetMinutes, wallClock } from './time-zone.ts';

/** Minutes after local midnight: quiet from `start` (included) to `end` (excluded), wrapping midnight when end < start. */
export interface QuietHours {
  start: number;
  end: number;
}

const TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;
const DAY = 24 * 60;
const MINUTE_MS = 60_000;
/** Clock changes a search may cross; real zones change at most once or twice a day, and rarely that. */
const MAX_HOPS = 8;

/** A --quiet-hours option: "HH:MM-HH:MM", or "off" (null: no quiet hours); CAMPAIGN_INVALID otherwise. */
export function parseQuietHours(text: string): QuietHours | null {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'off') return null;
  const [from, to, ...rest] = trimmed.split('-').map((s) => TIME.exec(s.trim()));
  if (!from || !to || rest.length > 0) {
    throw new SwitchboardError(
      'CAMPAIGN_INVALID',
      `quiet hours are HH:MM-HH:MM in 24-hour time (such as 21:00-08:00) or off, not "${text}"`,
    );
  }
  const start = Number(from[1]) * 60 + Number(from[2]);
  const end = Number(to[1]) * 60 + Number(to[2]);
  if (start === end) {
    throw new SwitchboardError(
      'CAMPAIGN_INVALID',
      `quiet hours "${text}" start and end at the same minute; for none, say off`,
    );
  }
  return { start, end };
}

/** Whether `at` falls in quiet hours on the clocks of `timeZone`; never with no quiet hours. */
export function isQuiet(quiet: QuietHours | null, at: Date, timeZone: string): boolean {
  if (quiet === null) return false;
  const clock = wallClock(at, timeZone);
  return quietMinute(quiet, clock.hour * 60 + clock.minute);
}

/**
 * The first minute at or after `at` outside quiet hours in `timeZone`: `at` itself when it is not quiet. Jumps
 * straight to the end of quiet hours, unless a clock change lies on the way: then to the change, and on from there
 * (falling back may leave quiet hours early; springing forward may skip their end).
 */
export function nextAllowed(quiet: QuietHours | null, at: Date, timeZone: string): Date {
  if (quiet === null || !isQuiet(quiet, at, timeZone)) return at;
  let t = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const clock = wallClock(new Date(t), timeZone);
    const minute = clock.hour * 60 + clock.minute;
    if (!quietMinute(quiet, minute)) return new Date(t);
    const target = t + ((quiet.end - minute + DAY) % DAY) * MINUTE_MS;
    const offset = utcOffsetMinutes(new Date(t), timeZone);
    // Same offset at both ends: the clock ran steadily from quiet minute to the end of quiet hours.
    t =
      utcOffsetMinutes(new Date(target), timeZone) === offset ? target : change(t, target, offset, timeZone);
  }
  return new Date(t);
}

function quietMinute(quiet: QuietHours, minute: number): boolean {
  return quiet.start < quiet.end
    ? minute >= quiet.start && minute < quiet.end
    : minute >= quiet.start || minute < quiet.end;
}

/** The first minute after `from`, up to `to`, whose UTC offset is no longer `offset`: when the clocks change. */
function change(from: number, to: number, offset: number, timeZone: string): number {
  let lo = from;
  let hi = to;
  while (hi - lo > MINUTE_MS) {
    const mid = lo + Math.floor((hi - lo) / MINUTE_MS / 2) * MINUTE_MS;
    if (utcOffsetMinutes(new Date(mid), timeZone) === offset) lo = mid;
    else hi = mid;
  }
  return hi;
}
