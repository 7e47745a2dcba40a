import { words } from '../normalize.ts';
import { ORDINAL_TEENS, ORDINAL_UNITS, TEENS, TENS, UNITS } from './words.ts';

/** A flow's own entity: each canonical value with its synonyms, as `{ "large": ["big", "family size"] }`. */
export interface EntityValues {
  [canonical: string]: readonly string[];
}

/** How extractCustom matches. */
export interface CustomOptions {
  /**
   * When no value occurs exactly, also accept words a speech engine got slightly wrong ("margarita" for
   * "margherita", "pepper oni" for "pepperoni"); see fuzzyWordCost for the bound. Off by default.
   */
  fuzzy?: boolean;
}

/** Only the first words of an utterance are compared approximately, so a long one costs a bounded time. */
export const MAX_FUZZY_TOKENS = 200;
/** Longer phrases are matched exactly only, which keeps their alignment cheap. */
export const MAX_FUZZY_PHRASE_WORDS = 6;

/**
 * The canonical value whose name or a synonym occurs in the utterance as whole words, after normalization.
 * The longest match (in words) wins, so "extra large" beats "large"; when two different values tie for the
 * longest match ("small or large") the answer is null rather than a guess.
 *
 * With `fuzzy`, an utterance where nothing matches exactly is tried again word by word within a bounded edit
 * distance (see fuzzyWordCost), with the same rules: the longest phrase wins, then the fewest edits, and a tie
 * between two values is null. An exact match, or an exact tie, is never overruled by an approximate one.
 */
export function extractCustom(
  values: EntityValues,
  text: string,
  options: CustomOptions = {},
): string | null {
  const tokens = words(text);
  const phrases = compile(values);
  const at = positions(tokens);
  let best: string | null = null;
  let bestLength = 0;
  let tied = false;
  for (const { canonical, target } of phrases) {
    if (target.length < bestLength || !occurs(tokens, at, target)) continue;
    if (target.length > bestLength) {
      best = canonical;
      bestLength = target.length;
      tied = false;
    } else if (canonical !== best) {
      tied = true;
    }
  }
  if (best !== null || options.fuzzy !== true) return tied ? null : best;
  return fuzzyMatch(phrases, tokens.slice(0, MAX_FUZZY_TOKENS));
}

interface Phrase {
  canonical: string;
  target: readonly string[];
}

function compile(values: EntityValues): Phrase[] {
  const phrases: Phrase[] = [];
  for (const [canonical, synonyms] of Object.entries(values)) {
    for (const phrase of [canonical, ...synonyms]) {
      const target = words(phrase);
      if (target.length > 0) phrases.push({ canonical, target });
    }
  }
  return phrases;
}

/** Where each word occurs, so a phrase is looked for only where its first word is. */
function positions(tokens: readonly string[]): Map<string, number[]> {
  const at = new Map<string, number[]>();
  tokens.forEach((t, i) => {
    const list = at.get(t);
    if (list === undefined) at.set(t, [i]);
    else list.push(i);
  });
  return at;
}

function occurs(
  tokens: readonly string[],
  at: ReadonlyMap<string, number[]>,
  target: readonly string[],
): boolean {
  const starts = at.get(target[0] ?? '') ?? [];
  return starts.some((i) => target.every((t, k) => tokens[i + k] === t));
}

function fuzzyMatch(phrases: readonly Phrase[], tokens: readonly string[]): string | null {
  let best: string | null = null;
  let bestLength = 0;
  let bestCost = Infinity;
  let tied = false;
  for (const { canonical, target } of phrases) {
    if (target.length > MAX_FUZZY_PHRASE_WORDS || target.length < bestLength) continue;
    let cost = Infinity;
    for (let i = 0; i < tokens.length; i++) cost = Math.min(cost, align(tokens, i, target, 0));
    // A phrase's edits together stay within the bound of its letters: "meet lovers" (1 of 2) is "meat lovers".
    if (cost === Infinity || (target.length > 1 && cost > fuzzyBound(target.join('').length))) continue;
    if (target.length > bestLength || cost < bestCost) {
      best = canonical;
      bestLength = target.length;
      bestCost = cost;
      tied = false;
    } else if (cost === bestCost && canonical !== best) {
      tied = true;
    }
  }
  return tied ? null : best;
}

/**
 * The fewest edits that align target[tj..] with the utterance from token ti, or Infinity. Each target word
 * matches one token (fuzzyWordCost), two tokens run together ("pepper oni" for "pepperoni"), or one token
 * matches two target words ("cheeseburger" for "cheese burger"); see joinedCost.
 */
function align(tokens: readonly string[], ti: number, target: readonly string[], tj: number): number {
  const word = target[tj];
  if (word === undefined) return 0;
  const token = tokens[ti];
  if (token === undefined) return Infinity;
  let best = Infinity;
  const single = fuzzyWordCost(token, word, target.length > 1);
  if (single < Infinity) best = single + align(tokens, ti + 1, target, tj + 1);
  const nextToken = tokens[ti + 1];
  if (nextToken !== undefined) {
    const split = joinedCost([token, nextToken], word);
    if (split < best) best = Math.min(best, split + align(tokens, ti + 2, target, tj + 1));
  }
  const nextWord = target[tj + 1];
  if (nextWord !== undefined) {
    const merged = joinedCost([word, nextWord], token);
    if (merged < best) best = Math.min(best, merged + align(tokens, ti + 1, target, tj + 2));
  }
  return best;
}

// Words too common to stand for anything else, or that other entities own (numbers, yes and no). They match
// only exactly, and nothing approximates them: "four" is never "for", "sure" never "shore", "want" never "wand".
const COMMON: ReadonlySet<string> = new Set([
  ...UNITS.keys(),
  ...TEENS.keys(),
  ...TENS.keys(),
  ...ORDINAL_UNITS.keys(),
  ...ORDINAL_TEENS.keys(),
  ...`hundred thousand million dozen half quarter
  about above actually after again against all also always another any anyone anything are around away back
  because been before being below between both bring but call called calling came can cannot come could day days
  did does doing done down during each either else even ever every everything few find fine first from further
  gets getting give given goes going gone good goodbye great have having hello help here hers hold hour hours how
  into just keep know last later least left less like little long look made make many maybe mean might mine
  minute minutes more most much must name need never next nope nothing number okay once only other ours over
  people person please pretty really right same said says see seen send should since some someone something
  sorry still such sure take tell than thank thanks that thats their them then there these they thing things
  think this those though through time times today told tomorrow under until very wait want wanted wants was
  week well were what whats when where which while will with without would yeah year years your yours`
    .split(/\s+/)
    .filter((w) => w !== ''),
]);

/**
 * How many edits a target word of this length may differ by: none up to 4 characters (a 4-letter word has too
 * many 1-edit neighbours: "beef"/"beer", "cola"/"cold"), 1 from 5 to 7 ("large"/"lage"), 2 from 8 on
 * ("margherita"/"margarita"). In a phrase of several words, where the other words vouch for the match, a
 * word of 4 letters may differ by 1 ("meet lovers" for "meat lovers").
 */
export function fuzzyBound(length: number, inPhrase = false): number {
  return length <= 3 ? 0 : length === 4 ? (inPhrase ? 1 : 0) : length <= 7 ? 1 : 2;
}

/**
 * The edits between an utterance word and a target word, or Infinity when they are too far apart to be the
 * same word misheard. Besides equality, a word matches when (1) neither word is COMMON, (2) both start with
 * the same letter (engines rarely get the first sound wrong, and it rules out "large"/"barge"), and (3) the
 * Damerau-Levenshtein distance (adjacent transpositions count once) is within fuzzyBound of the target's
 * length. In a phrase of several words, all the edits together must also be within the bound of the phrase's
 * letters. A plain plural ("cokes", "fries"/"fry") costs 1 even where the bound is 0, from 4 letters on.
 */
export function fuzzyWordCost(token: string, word: string, inPhrase = false): number {
  if (token === word) return 0;
  if (token[0] !== word[0] || COMMON.has(token) || COMMON.has(word)) return Infinity;
  if (word.length >= 4 && (isPlural(token, word) || isPlural(word, token))) return 1;
  const bound = fuzzyBound(word.length, inPhrase);
  if (bound === 0) return Infinity;
  const d = editDistance(token, word, bound);
  return d <= bound ? d : Infinity;
}

function isPlural(plural: string, singular: string): boolean {
  return (
    plural === `${singular}s` ||
    plural === `${singular}es` ||
    (singular.endsWith('y') && plural === `${singular.slice(0, -1)}ies`)
  );
}

/**
 * Words run together or split apart: the pieces joined without spaces against the whole. The missing or extra
 * space is one edit of the bound, so "pepper oni" and "pick up" match exactly joined, and "cheese burgers"
 * (1 more) matches "cheeseburger" (12 letters, bound 2). Every piece must have 2 letters or more and the
 * whole 6 or more: "a part" is not "apart".
 */
function joinedCost(pieces: readonly string[], whole: string): number {
  const bound = fuzzyBound(whole.length) - 1;
  if (whole.length < 6 || bound < 0 || pieces[0]?.[0] !== whole[0]) return Infinity;
  let length = 0;
  for (const p of pieces) {
    if (p.length < 2) return Infinity;
    length += p.length;
  }
  if (Math.abs(length - whole.length) > bound) return Infinity;
  const d = editDistance(pieces.join(''), whole, bound);
  return d <= bound ? d + 1 : Infinity;
}

/**
 * The optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions) between a and b,
 * or max + 1 as soon as it must exceed max, so a long word costs no more than a length comparison.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      let d = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (before[j - 2] ?? 0) + 1);
      current.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    before = previous;
    previous = current;
  }
  return Math.min(previous[b.length] ?? 0, max + 1);
}
