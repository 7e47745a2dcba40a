import { foldCase } from '../normalize.ts';
import { TEENS, TENS, UNITS, isNumberToken } from './words.ts';

// A minus sign counts only at the start of a token, so "555-1234" reads as two numbers, not a subtraction.
const TOKEN = /(?:(?<![\p{L}\p{N}])-)?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)|\p{L}+/gu;
const LITERAL = /^(-?)([0-9]*)(?:\.([0-9]+))?$/;
const SCALES: ReadonlyMap<string, bigint> = new Map([
  ['thousand', 1_000n],
  ['million', 1_000_000n],
  ['billion', 1_000_000_000n],
]);
const FRACTION_DIGITS: ReadonlyMap<string, number> = new Map([...UNITS, ['oh', 0]]);

/** Tokens for number reading: written numbers ("3.5", "-7", "1,000" as 1000) and words. */
export function numberTokens(text: string): string[] {
  return (
    foldCase(text)
      .replace(/([0-9]),(?=[0-9]{3}(?![0-9]))/g, '$1')
      .match(TOKEN) ?? []
  );
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
    if (w === 'a' && last === 'none' && (next === 'hundred' || next === 'dozen' || SCALES.has(next ?? ''))) {
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

/**
 * The first number in the utterance, or null. A number run straight into another ("five five five",
 * "twenty twenty") is null: it is more likely digits or a year than a quantity.
 */
export function extractNumber(text: string): string | null {
  const tokens = numberTokens(text);
  for (let i = 0; i < tokens.length; i++) {
    const parsed = parseNumberAt(tokens, i);
    if (parsed === null) continue;
    return isNumberToken(tokens[parsed.end]) ? null : parsed.value;
  }
  return null;
}
