/**
 * Entity extraction by rules (en-US). Values are canonical strings so slots, templates and journals agree:
 *
 * - number: a decimal string, no leading or trailing zeros: "42", "3.5", "-7", "0"
 * - digits: the digits 0-9 only, leading zeros kept: "5551234", "007"
 * - phone_number: 3 to 15 digits, with "+" first when the caller gave one: "+15555550100", "5555550100"
 * - date: "YYYY-MM-DD"
 * - time: "HH:MM", 24-hour
 * - yes / no: "true" when the utterance says that (and not the other); otherwise no value
 *
 * Every extractor returns null rather than guess, and none throws on any input.
 */
import { extractDate, parseIsoDate } from './date.ts';
import { extractDigits, extractPhoneNumber, isPhoneNumber } from './digits.ts';
import { canonicalDecimal, extractNumber } from './number.ts';
import { extractTime } from './time.ts';
import { polarity } from './yes-no.ts';

export { extractCustom } from './custom.ts';
export type { CustomOptions, EntityValues } from './custom.ts';

export type BuiltinEntity = 'yes' | 'no' | 'number' | 'digits' | 'date' | 'time' | 'phone_number';

export const BUILTIN_ENTITIES: readonly BuiltinEntity[] = [
  'yes',
  'no',
  'number',
  'digits',
  'date',
  'time',
  'phone_number',
];

/** What extraction needs besides the text. */
export interface ExtractContext {
  /** The call's local date, YYYY-MM-DD: "tomorrow" and "march 3rd" are relative to it. */
  today: string;
}

/** The canonical value of a built-in entity in a spoken or typed utterance, or null. */
export function extractBuiltin(entity: BuiltinEntity, text: string, ctx: ExtractContext): string | null {
  switch (entity) {
    case 'yes':
    case 'no':
      return polarity(text) === entity ? 'true' : null;
    case 'number':
      return extractNumber(text);
    case 'digits':
      return extractDigits(text);
    case 'phone_number':
      return extractPhoneNumber(text);
    case 'date':
      return extractDate(text, ctx.today);
    case 'time':
      return extractTime(text);
    default:
      return null;
  }
}

/**
 * The value of a built-in entity entered on the keypad (the digits without the terminator), or null.
 * yes is 1 and no is 2; a number loses leading zeros (use digits when they matter); a date must be 8 digits
 * YYYYMMDD and a time 4 digits HHMM, since shorter entries are ambiguous.
 */
export function entityFromDtmf(entity: BuiltinEntity, digits: string): string | null {
  if (!/^[0-9]+$/.test(digits)) return null;
  switch (entity) {
    case 'yes':
      return digits === '1' ? 'true' : null;
    case 'no':
      return digits === '2' ? 'true' : null;
    case 'number':
      return canonicalDecimal(false, digits);
    case 'digits':
      return digits;
    case 'phone_number':
      return isPhoneNumber(digits) ? digits : null;
    case 'date': {
      if (digits.length !== 8) return null;
      const iso = `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6)}`;
      return parseIsoDate(iso) === null ? null : iso;
    }
    case 'time': {
      const m = /^([01][0-9]|2[0-3])([0-5][0-9])$/.exec(digits);
      return m === null ? null : `${m[1]}:${m[2]}`;
    }
    default:
      return null;
  }
}
