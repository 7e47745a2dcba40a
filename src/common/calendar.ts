/**
 * The names of months and weekdays, in English: how dates are said to callers (flow templates), heard from them
 * (the date entity, speech recognition phrases). Indexes follow JavaScript's Date: months from 0 (January),
 * weekdays from 0 (Sunday), so `WEEKDAY_NAMES[date.getUTCDay()]` names a date's weekday.
 */
export const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

export const WEEKDAY_NAMES = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
] as const;

/**
 * Short written forms of month names, lower case, with their month index (from 0). "May" has none; September has
 * two. Weekdays have none on purpose: "sat", "sun" and "wed" are common words.
 */
export const MONTH_ABBREVIATIONS: ReadonlyMap<string, number> = new Map([
  ['jan', 0],
  ['feb', 1],
  ['mar', 2],
  ['apr', 3],
  ['jun', 5],
  ['jul', 6],
  ['aug', 7],
  ['sept', 8],
  ['sep', 8],
  ['oct', 9],
  ['nov', 10],
  ['dec', 11],
]);
