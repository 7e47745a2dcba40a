/**
 * Prompt templates: `{{slot}}` inserts a slot's value, `{{env.NAME}}` a server setting and `{{call.from}}` or
 * `{{call.vars.name}}` what the call knows of itself (call-info.ts), the last two as captured when the call
 * started (`call.answeredBy` once it is known). Filters make values read naturally: `{{slot|digits}}` spells
 * digits out one by one (a voice reads "5 5 5 1 2", not "fifty-five thousand five hundred and twelve"),
 * `{{slot|date}}` reads a YYYY-MM-DD date as "Tuesday, December 1st", `{{slot|time}}` an HH:MM time as
 * "3:30 PM".
 */
import { MONTH_NAMES, WEEKDAY_NAMES } from '../common/calendar.ts';
import { CALL_PREFIX, readCall, type CallInfo } from './call-info.ts';
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|\s*([a-z]+)\s*)?\}\}/g;

export const TEMPLATE_FILTERS = ['digits', 'date', 'time'] as const;

/** Prefix of a template name read from the environment captured when the call started: `{{env.ORDERS_URL}}`. */
export const ENV_PREFIX = 'env.';

/**
 * What a template reads besides the slots, as captured when the call started. Both are required, so an
 * environment passed on its own (as before the call's numbers were) does not compile.
 */
export interface TemplateSources {
  /** The environment variables the flow reads (`{{env.NAME}}`). */
  env: Readonly<Record<string, string>>;
  /** How the call reached the flow (`{{call.NAME}}`); undefined is an inbound call with no numbers known. */
  call: CallInfo | undefined;
}

const NO_SOURCES: TemplateSources = { env: {}, call: undefined };

/** Render a template against the call's slots, environment and numbers; anything missing renders as empty text. */
export function renderTemplate(
  template: string,
  slots: Readonly<Record<string, string>>,
  { env, call }: TemplateSources = NO_SOURCES,
  /** Applied to each inserted value, e.g. XML escaping inside SSML. */
  escape: (value: string) => string = (value) => value,
): string {
  return template.replace(PLACEHOLDER, (_match, name: string, filter: string | undefined) => {
    const value = name.startsWith(CALL_PREFIX)
      ? readCall(call, name.slice(CALL_PREFIX.length))
      : name.startsWith(ENV_PREFIX)
        ? ownValue(env, name.slice(ENV_PREFIX.length))
        : ownValue(slots, name);
    if (filter === 'digits') return escape(spellDigits(value));
    if (filter === 'date') return escape(sayDate(value));
    if (filter === 'time') return escape(sayTime(value));
    return escape(value);
  });
}

// Own properties only: a slot named `constructor` is just an absent slot.
function ownValue(source: Readonly<Record<string, string>>, key: string): string {
  return Object.hasOwn(source, key) ? (source[key] ?? '') : '';
}

/**
 * A piece of a template: text as written, or a placeholder (`text` is the whole `{{...}}`). `fromEnv` marks the
 * server's own settings; every other value (a slot, the call's numbers) is data from outside the flow.
 */
export type TemplatePart =
  { kind: 'text'; text: string } | { kind: 'value'; text: string; name: string; fromEnv: boolean };

/** A template cut into its text and its placeholders, in order: for rendering that depends on where a value lands. */
export function templateParts(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let end = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > end) parts.push({ kind: 'text', text: template.slice(end, m.index) });
    const name = m[1]!;
    parts.push({ kind: 'value', text: m[0], name, fromEnv: name.startsWith(ENV_PREFIX) });
    end = m.index + m[0].length;
  }
  if (end < template.length) parts.push({ kind: 'text', text: template.slice(end) });
  return parts;
}

/** The names a template refers to (slots, `env.NAME`, `call.NAME`), with their filters. */
export function templateSlots(template: string): { name: string; filter: string | undefined }[] {
  const out: { name: string; filter: string | undefined }[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) if (m[1]) out.push({ name: m[1], filter: m[2] });
  return out;
}

const KEY_WORDS: Record<string, string> = { '*': 'star', '#': 'pound' };

/** "5551234" -> "5, 5, 5, 1, 2, 3, 4": commas make synthesizers pause between digits. */
export function spellDigits(value: string): string {
  return [...value].map((ch) => KEY_WORDS[ch] ?? ch).join(', ');
}

/** "2026-12-01" -> "Tuesday, December 1st"; anything else is left as it is. */
export function sayDate(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return value;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // UTC, so the weekday depends on the date alone, not on the server's time zone.
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return value;
  return `${WEEKDAY_NAMES[date.getUTCDay()]}, ${MONTH_NAMES[month - 1]} ${ordinal(day)}`;
}

/** "15:30" -> "3:30 PM", "09:00" -> "9 AM", "12:00" -> "12 noon", "00:00" -> "midnight"; else as it is. */
export function sayTime(value: string): string {
  const m = /^(\d{2}):(\d{2})$/.exec(value);
  if (!m) return value;
  const [hour, minute] = [Number(m[1]), Number(m[2])];
  if (hour > 23 || minute > 59) return value;
  if (minute === 0 && hour === 12) return '12 noon';
  if (minute === 0 && hour === 0) return 'midnight';
  const h12 = hour % 12 === 0 ? 12 : hour % 12;
  return `${h12}${minute === 0 ? '' : `:${m[2]}`} ${hour < 12 ? 'AM' : 'PM'}`;
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${suffix}`;
}
