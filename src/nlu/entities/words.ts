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
