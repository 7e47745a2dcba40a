import { foldCase } from '../normalize.ts';
import {
  DIGIT_REPEATS,
  DIGIT_ZEROS,
  ORDINAL_TEENS,
  ORDINAL_UNITS,
  TEENS,
  TENS,
  UNITS,
  homophoneDigitAt,
  isNumberToken,
} from './words.ts';

// A minus sign counts only at the start of a token, so "555-1234" reads as two numbers, not a subtraction.
const TOKEN = /(?:(?<![\p{L}\p{N}])-)?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)|\p{L}+/gu;
const LITERAL = /^(-?)([0-9]*)(?:\.([0-9]+))?$/;
const SCALES: ReadonlyMap<string, bigint> = new Map([
  ['thousand', 1_000n],
  ['million', 1_000_000n],
  ['billion', 1_000_000_000n],
]);
const FRACTION_DIGITS: ReadonlyMap<string, number> = new Map([...UNITS, ['oh', 0]]);

// Punctuation a speech engine writes for a pause: it ends a run of digits ("two, three pizzas" is not 23).
const PAUSE = /[,;:!?]|\.(?![0-9])/;

/** Tokens for number reading: written numbers ("3.5", "-7", "1,000" as 1000) and words. */
export function numberTokens(text: string): string[] {
  return readTokens(text).tokens;
}

/** The tokens, and the indices of those that follow a pause mark. */
function readTokens(text: string): { tokens: string[]; pauses: Set<number> } {
  const folded = foldCase(text).replace(/([0-9]),(?=[0-9]{3}(?![0-9]))/g, '$1');
  const tokens: string[] = [];
  const pauses = new Set<number>();
  let last = 0;
  for (const m of folded.matchAll(TOKEN)) {
    if (tokens.length > 0 && PAUSE.test(folded.slice(last, m.index))) pauses.add(tokens.length);
    tokens.push(m[0]);
    last = m.index + m[0].length;
  }
  return { tokens, pauses };
}

/** "-0012.50" → "-12.5": no leading zeros, no trailing fraction zeros, no negative zero. */
export function canonicalDecimal(negative: boolean, integer: string, fraction = ''): string {
  const int = integer.replace(/^0+/, '') || '0';
  const frac = fraction.replace(/0+$/, '');
  const body = frac === '' ? int : `${int}.${frac}`;
  return negative && body !== '0' ? `-${body}` : body;
}

type Last = 'none' | 'a' | 'unit' | 'teen' | 'tens' | 'hundred' | 'scale' | 'dozen';

/**
 * Reads one number starting at token i: a written literal, optionally times a scale word ("5 thousand"),
 * or English words ("minus one hundred and five", "two point five", "a dozen", "three and a half").
 */
export function parseNumberAt(tokens: readonly string[], i: number): { value: string; end: number } | null {
  let j = i;
  let negative = false;
  if (tokens[j] === 'minus' || tokens[j] === 'negative') {
    negative = true;
    j++;
  }
  const literal = LITERAL.exec(tokens[j] ?? '');
  if (literal !== null && tokens[j] !== '') {
    const [, sign = '', integer = '', fraction = ''] = literal;
    j++;
    const scale = SCALES.get(tokens[j] ?? '') ?? (tokens[j] === 'hundred' ? 100n : undefined);
    if (scale !== undefined && fraction === '' && integer !== '') {
      return {
        value: canonicalDecimal(negative || sign === '-', (BigInt(integer) * scale).toString()),
        end: j + 1,
      };
    }
    return { value: canonicalDecimal(negative || sign === '-', integer, fraction), end: j };
  }

  let total = 0n;
  let current = 0n;
  let last: Last = 'none';
  let lastScale: bigint | undefined;
  let fraction = '';
  for (;;) {
    const w = tokens[j];
    if (w === undefined) break;
    const next = tokens[j + 1];
    const unit = UNITS.get(w);
    const teen = TEENS.get(w);
    const tens = TENS.get(w);
    const scale = SCALES.get(w);
    const afterGroup = last === 'none' || last === 'hundred' || last === 'scale';
    if (w === 'half' && last === 'none' && next === 'a' && tokens[j + 2] === 'dozen') {
      current = 6n;
      last = 'dozen';
      j += 3;
      continue;
    } else if (
      w === 'a' &&
      last === 'none' &&
      (next === 'hundred' || next === 'dozen' || SCALES.has(next ?? ''))
    ) {
      current = 1n;
      last = 'a';
    } else if (unit !== undefined && (afterGroup || (last === 'tens' && unit > 0))) {
      if (unit === 0 && last !== 'none') break;
      current += BigInt(unit);
      last = 'unit';
    } else if (teen !== undefined && afterGroup) {
      current += BigInt(teen);
      last = 'teen';
    } else if (tens !== undefined && afterGroup) {
      current += BigInt(tens);
      last = 'tens';
    } else if (
      w === 'hundred' &&
      ['a', 'unit', 'teen', 'tens'].includes(last) &&
      current > 0n &&
      current < 100n
    ) {
      current *= 100n;
      last = 'hundred';
    } else if (
      scale !== undefined &&
      last !== 'none' &&
      last !== 'scale' &&
      current > 0n &&
      (lastScale === undefined || scale < lastScale)
    ) {
      total += current * scale;
      current = 0n;
      lastScale = scale;
      last = 'scale';
    } else if (
      w === 'dozen' &&
      ['a', 'unit', 'teen', 'tens'].includes(last) &&
      current > 0n &&
      current < 100n
    ) {
      current *= 12n;
      last = 'dozen';
    } else if (w === 'and' && (last === 'hundred' || last === 'scale') && isNumberToken(next)) {
      // "one hundred and five": the "and" joins parts of one number.
    } else if (w === 'and' && last !== 'none' && last !== 'a' && next === 'a' && tokens[j + 2] === 'half') {
      fraction = '5';
      j += 3;
      break;
    } else if (w === 'point' && FRACTION_DIGITS.has(next ?? '')) {
      if (last === 'none') last = 'unit';
      j++;
      for (
        let d = FRACTION_DIGITS.get(tokens[j] ?? '');
        d !== undefined;
        d = FRACTION_DIGITS.get(tokens[j] ?? '')
      ) {
        fraction += String(d);
        j++;
      }
      break;
    } else {
      break;
    }
    j++;
  }
  if (last === 'none' || last === 'a') return null;
  return { value: canonicalDecimal(negative, (total + current).toString(), fraction), end: j };
}

// After a run of digits these make it something else: "four five hundred", "one two point five".
const CONTINUES = new Set(['hundred', 'dozen', 'point', ...SCALES.keys()]);

/**
 * A run of two or more single digits at token i, spoken or typed one by one: "four five six", "4 5 6",
 * "one oh one", "double five", "five for six" (see homophoneDigitAt). These are the single-digit items the
 * digits entity reads too, so "four five six" is 456 as a number and "456" as digits. A pause mark ends the
 * run, and so does a hesitation: "four, uh, five" is more likely a correction than 45.
 */
function digitRunAt(
  tokens: readonly string[],
  pauses: ReadonlySet<number>,
  i: number,
): { digits: string; end: number } | null {
  let digits = '';
  let j = i;
  for (;;) {
    const w = tokens[j];
    if (w === undefined || (j > i && pauses.has(j))) break;
    const unit = /^[0-9]$/.test(w) ? Number(w) : UNITS.get(w);
    const inRun = digits !== '';
    const heard = inRun ? (DIGIT_ZEROS.has(w) ? 0 : homophoneDigitAt(tokens, j)) : null;
    const times = DIGIT_REPEATS.get(w);
    const next = tokens[j + 1] ?? '';
    const repeated = /^[0-9]$/.test(next) ? Number(next) : DIGIT_ZEROS.has(next) ? 0 : UNITS.get(next);
    if (unit !== undefined) {
      digits += String(unit);
      j++;
    } else if (heard !== null) {
      digits += String(heard);
      j++;
    } else if (times !== undefined && repeated !== undefined && !pauses.has(j + 1)) {
      digits += String(repeated).repeat(times);
      j += 2;
    } else {
      break;
    }
  }
  return digits.length >= 2 ? { digits, end: j } : null;
}

/** "the third" as 3, "the twenty first" as 21: an ordinal counts only after "the". */
function ordinalAt(tokens: readonly string[], i: number): { value: number; end: number } | null {
  if (tokens[i - 1] !== 'the') return null;
  const w = tokens[i] ?? '';
  const single = ORDINAL_UNITS.get(w) ?? ORDINAL_TEENS.get(w);
  if (single !== undefined) return { value: single, end: i + 1 };
  const tens = TENS.get(w);
  const ones = ORDINAL_UNITS.get(tokens[i + 1] ?? '');
  return tens !== undefined && ones !== undefined ? { value: tens + ones, end: i + 2 } : null;
}

/**
 * The first number in the utterance, or null. Single digits said one after another are read as one number
 * ("four five six" is 456, "one oh one" 101); other numbers run straight into another ("twenty twenty",
 * "nineteen ninety nine", "five twenty") are null: they are more likely a year or a price than a quantity.
 * An ordinal after "the" ("the third") is its cardinal value; "second" alone ("just a second") is not.
 */
export function extractNumber(text: string): string | null {
  const { tokens, pauses } = readTokens(text);
  for (let i = 0; i < tokens.length; i++) {
    const ordinal = ordinalAt(tokens, i);
    if (ordinal !== null) return String(ordinal.value);
    const run = digitRunAt(tokens, pauses, i);
    if (run !== null) {
      const after = tokens[run.end];
      // "four five, six" is null like "four, five, six": a pause makes the grouping unsure, not the end.
      const continues = isNumberToken(after) || CONTINUES.has(after ?? '');
      return continues ? null : canonicalDecimal(false, run.digits);
    }
    const parsed = parseNumberAt(tokens, i);
    if (parsed === null) continue;
    return isNumberToken(tokens[parsed.end]) ? null : parsed.value;
  }
  return null;
}
