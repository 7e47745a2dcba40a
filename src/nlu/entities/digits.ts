import { foldCase } from '../normalize.ts';
import { DIGIT_FILLERS, DIGIT_REPEATS, DIGIT_ZEROS, TEENS, TENS, UNITS, homophoneDigitAt } from './words.ts';

// Punctuation between digit groups ("555-1234", "(555) 123 4567") only separates tokens; words end a run.
const TOKEN = /\+|[0-9]+|\p{L}+/gu;

interface Item {
  digits: string;
  end: number;
  word: boolean;
}

/** One spoken or typed group of digits at token i: "5551234", "five", "oh", "double five", "twenty three". */
function digitItem(tokens: readonly string[], i: number, inRun: boolean): Item | null {
  const w = tokens[i];
  if (w === undefined) return null;
  if (/^[0-9]+$/.test(w)) return { digits: w, end: i + 1, word: false };
  const unit = UNITS.get(w);
  if (unit !== undefined) return { digits: String(unit), end: i + 1, word: true };
  // "oh" starts a run only when digits follow, so "oh, it's five" does not read as a zero.
  if (DIGIT_ZEROS.has(w) && (inRun || digitItem(tokens, i + 1, true) !== null))
    return { digits: '0', end: i + 1, word: true };
  const teen = TEENS.get(w);
  if (teen !== undefined) return { digits: String(teen), end: i + 1, word: true };
  const tens = TENS.get(w);
  if (tens !== undefined) {
    const ones = UNITS.get(tokens[i + 1] ?? '');
    return ones !== undefined && ones > 0
      ? { digits: String(tens + ones), end: i + 2, word: true }
      : { digits: String(tens), end: i + 1, word: true };
  }
  if (inRun) {
    const heard = homophoneDigitAt(tokens, i);
    if (heard !== null) return { digits: String(heard), end: i + 1, word: true };
  }
  const times = DIGIT_REPEATS.get(w);
  if (times !== undefined) {
    const next = tokens[i + 1] ?? '';
    const digit = /^[0-9]$/.test(next) ? next : DIGIT_ZEROS.has(next) ? '0' : UNITS.get(next)?.toString();
    if (digit !== undefined) return { digits: digit.repeat(times), end: i + 2, word: true };
  }
  return null;
}

/** A run of digits and where it began, with whether it was introduced by "+" or "plus". */
interface Run {
  digits: string;
  plus: boolean;
}

/** Every run of digits in the utterance, in order. */
function digitRuns(text: string): Run[] {
  const tokens = foldCase(text).match(TOKEN) ?? [];
  const runs: Run[] = [];
  let i = 0;
  while (i < tokens.length) {
    let j = i;
    const plus = tokens[j] === '+' || tokens[j] === 'plus';
    if (plus) j++;
    let digits = '';
    let afterWord = false;
    for (;;) {
      const item = digitItem(tokens, j, digits !== '');
      if (item !== null) {
        digits += item.digits;
        j = item.end;
        afterWord = item.word;
      } else if (tokens[j] === 'hundred' && afterWord) {
        // "eight hundred" in a phone number is 800.
        digits += '00';
        j++;
        afterWord = false;
      } else if (
        DIGIT_FILLERS.has(tokens[j] ?? '') &&
        digits !== '' &&
        digitItem(tokens, j + 1, true) !== null
      ) {
        j++;
      } else {
        break;
      }
    }
    if (digits === '') {
      i++;
    } else {
      runs.push({ digits, plus });
      i = j;
    }
  }
  return runs;
}

/** The first run of digits, as the digits 0-9 only, or null. */
export function extractDigits(text: string): string | null {
  return digitRuns(text)[0]?.digits ?? null;
}

/** Whether a string is a phone number in canonical form: optional "+" then 3 to 15 digits. */
export function isPhoneNumber(value: string): boolean {
  return /^\+?[0-9]{3,15}$/.test(value);
}

/** The first run of 3 to 15 digits, with a leading "+" when one was typed or "plus" was said, or null. */
export function extractPhoneNumber(text: string): string | null {
  for (const run of digitRuns(text)) {
    const value = (run.plus ? '+' : '') + run.digits;
    if (isPhoneNumber(value)) return value;
  }
  return null;
}
