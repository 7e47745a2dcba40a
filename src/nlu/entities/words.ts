/** English number words, in Maps so a word like "constructor" never finds an Object.prototype member. */

export const UNITS: ReadonlyMap<string, number> = new Map([
  ['zero', 0],
  ['one', 1],
  ['two', 2],
  ['three', 3],
  ['four', 4],
  ['five', 5],
  ['six', 6],
  ['seven', 7],
  ['eight', 8],
  ['nine', 9],
]);

export const TEENS: ReadonlyMap<string, number> = new Map([
  ['ten', 10],
  ['eleven', 11],
  ['twelve', 12],
  ['thirteen', 13],
  ['fourteen', 14],
  ['fifteen', 15],
  ['sixteen', 16],
  ['seventeen', 17],
  ['eighteen', 18],
  ['nineteen', 19],
]);

export const TENS: ReadonlyMap<string, number> = new Map([
  ['twenty', 20],
  ['thirty', 30],
  ['forty', 40],
  ['fourty', 40],
  ['fifty', 50],
  ['sixty', 60],
  ['seventy', 70],
  ['eighty', 80],
  ['ninety', 90],
]);

export const ORDINAL_UNITS: ReadonlyMap<string, number> = new Map([
  ['first', 1],
  ['second', 2],
  ['third', 3],
  ['fourth', 4],
  ['fifth', 5],
  ['sixth', 6],
  ['seventh', 7],
  ['eighth', 8],
  ['ninth', 9],
  // A common misspelling that speech engines also produce for "fourth": "march forth", "the forth".
  ['forth', 4],
]);

export const ORDINAL_TEENS: ReadonlyMap<string, number> = new Map([
  ['tenth', 10],
  ['eleventh', 11],
  ['twelfth', 12],
  ['thirteenth', 13],
  ['fourteenth', 14],
  ['fifteenth', 15],
  ['sixteenth', 16],
  ['seventeenth', 17],
  ['eighteenth', 18],
  ['nineteenth', 19],
  ['twentieth', 20],
  ['thirtieth', 30],
]);

/** A value below 100 said as one word or as tens then units ("forty two"), with the tokens it used. */
export function parseBelowHundred(
  tokens: readonly string[],
  i: number,
): { value: number; end: number } | null {
  const w = tokens[i];
  if (w === undefined) return null;
  const unit = UNITS.get(w) ?? TEENS.get(w);
  if (unit !== undefined) return { value: unit, end: i + 1 };
  const tens = TENS.get(w);
  if (tens === undefined) return null;
  const next = tokens[i + 1];
  const ones = next === undefined ? undefined : UNITS.get(next);
  return ones !== undefined && ones > 0 ? { value: tens + ones, end: i + 2 } : { value: tens, end: i + 1 };
}

/** Whether a token can begin a spoken or written number. */
export function isNumberToken(w: string | undefined): boolean {
  return w !== undefined && (/^-?\.?[0-9]/.test(w) || UNITS.has(w) || TEENS.has(w) || TENS.has(w));
}

/** Words for zero inside a run of spoken digits ("one oh one"); never at its start, where "oh" is a sigh. */
export const DIGIT_ZEROS: ReadonlySet<string> = new Set(['oh', 'o']);

/** "double five" is 55, "triple oh" 000. */
export const DIGIT_REPEATS: ReadonlyMap<string, number> = new Map([
  ['double', 2],
  ['triple', 3],
]);

// Hesitations, and the "dash" a caller reads aloud, do not end a run of digits: "five five five uh one two".
export const DIGIT_FILLERS: ReadonlySet<string> = new Set([
  'uh',
  'um',
  'er',
  'erm',
  'ah',
  'hmm',
  'dash',
  'hyphen',
]);

/**
 * Speech engines write a spoken "four" as "for" and "two" as "too". They count as digits only between two
 * spoken digits ("five for six", "one too three"), never at the edge of a run: "a table for two" and
 * "for five people" are not 42 or 45. "to" is deliberately left out: "five to six" is a range or a time far
 * more often than a misheard digit.
 */
const DIGIT_HOMOPHONES: ReadonlyMap<string, number> = new Map([
  ['for', 4],
  ['too', 2],
]);

/**
 * A digit heard as a homophone at token i, when a spoken digit came just before and one comes just after.
 */
export function homophoneDigitAt(tokens: readonly string[], i: number): number | null {
  const digit = DIGIT_HOMOPHONES.get(tokens[i] ?? '');
  if (digit === undefined) return null;
  // Not after "oh": "oh, for five people" is a sigh, not 045.
  const before = tokens[i - 1];
  const after = tokens[i + 1];
  const digitBefore = before !== undefined && (/^[0-9]$/.test(before) || UNITS.has(before));
  const digitAfter =
    after !== undefined && (/^[0-9]$/.test(after) || UNITS.has(after) || DIGIT_ZEROS.has(after));
  return digitBefore && digitAfter ? digit : null;
}
