/**
 * Text of a flow (examples, entity values) turned into the words of the recognizer's dictionary: lower case,
 * apostrophes kept inside words (the dictionary spells "don't" and "i'm" that way), every other mark a word
 * break, numerals spelled out as they are spoken.
 */

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] as const;
const TEENS = [
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
] as const;
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'] as const;

/** The words of a digit string said one by one: "four oh one", "double five". */
export const DIGIT_WORDS: readonly string[] = Object.freeze([...ONES, 'oh', 'double', 'triple']);

/** Every word a caller may use to say a number, a digit string or an amount. */
export const NUMBER_WORDS: readonly string[] = Object.freeze([
  ...DIGIT_WORDS,
  ...TEENS,
  ...TENS.filter((w) => w !== ''),
  'hundred',
  'thousand',
  'million',
  'and',
  'point',
]);

/** The number words a listen context's `numbers` asks for. */
export function numberWords(numbers: boolean | 'digits'): readonly string[] {
  return numbers === 'digits' ? DIGIT_WORDS : numbers ? NUMBER_WORDS : [];
}

const APOSTROPHES = /[\u2018\u2019\u02BC\u02B9\u2032`]/g;
// Letters, digits and inner apostrophes make words; anything else separates them.
const TOKEN = /[\p{L}\p{M}\p{N}]+(?:'[\p{L}\p{M}\p{N}]+)*/gu;

/** The words of `text` as the dictionary spells them; numerals become spoken words ("2" -> "two"). */
export function phraseWords(text: string): string[] {
  const folded = text.normalize('NFKC').toLowerCase().replace(APOSTROPHES, "'").replace(/&/g, ' and ');
  const out: string[] = [];
  for (const [token] of folded.matchAll(TOKEN)) {
    if (/^\d+$/.test(token)) out.push(...spokenNumber(token));
    else if (/\d/.test(token)) out.push(...splitDigits(token));
    else out.push(token);
  }
  return out;
}

/** "42" -> forty two; up to 9999 as a quantity is said, longer strings (phone numbers, codes) digit by digit. */
export function spokenNumber(digits: string): string[] {
  const n = Number(digits);
  if (digits.length > 4 || (digits.length > 1 && digits.startsWith('0'))) {
    return [...digits].map((d) => ONES[Number(d)]!);
  }
  const out: string[] = [];
  const thousands = Math.floor(n / 1000);
  const hundreds = Math.floor((n % 1000) / 100);
  const rest = n % 100;
  if (thousands > 0) out.push(ONES[thousands]!, 'thousand');
  if (hundreds > 0) out.push(ONES[hundreds]!, 'hundred');
  if (rest > 0 || out.length === 0) {
    if (rest < 10) out.push(ONES[rest]!);
    else if (rest < 20) out.push(TEENS[rest - 10]!);
    else {
      out.push(TENS[Math.floor(rest / 10)]!);
      if (rest % 10 > 0) out.push(ONES[rest % 10]!);
    }
  }
  return out;
}

/** "b12" -> b one two: a mix of letters and digits is read out piece by piece. */
function splitDigits(token: string): string[] {
  const out: string[] = [];
  for (const [part] of token.matchAll(/\d+|[^\d]+/g)) {
    if (/^\d/.test(part)) out.push(...spokenNumber(part));
    else out.push(...part.split("'").filter((p) => p !== ''));
  }
  return out;
}
