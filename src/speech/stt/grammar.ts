/**
 * A JSGF grammar of the phrases a closed question expects ("yes", "large pizza", "talk to a person"): with it the
 * decoder only chooses among them, which is what makes an offline model accurate on phone audio.
 */
import type { DigitCount } from './engine.ts';
import { numberWords as numberWordsOf } from './words.ts';

export interface GrammarInput {
  /** Each expected phrase as dictionary words (see phraseWords). */
  phrases: readonly (readonly string[])[];
  /**
   * Add any sequence of number words ("four five six", "twenty two") as an alternative; `'digits'`: only digits
   * said one by one ("four oh one", "double five").
   */
  numbers: boolean | 'digits';
  /** With `numbers: 'digits'`, a run of exactly `min` to `max` digits, "double five" counting two. */
  digitCount?: DigitCount;
}

export interface BuiltGrammar {
  /** The grammar text for ps_set_jsgf_string. */
  jsgf: string;
  /** The phrases as they went in, after unknown words were dropped, deduplicated. */
  phrases: string[];
  /** Every word the grammar uses. */
  words: string[];
  /** Words missing from the dictionary, dropped from their phrases (a phrase left empty is skipped). */
  unknownWords: string[];
}

/**
 * The grammar of `input`, or null when nothing is left to recognize. Words `known` rejects are dropped from their
 * phrase: the rest of the phrase still lets the caller be heard ("talk to Zorblax" -> "talk to").
 */
export function buildGrammar(input: GrammarInput, known: (word: string) => boolean): BuiltGrammar | null {
  const unknown = new Set<string>();
  const phrases = new Set<string>();
  for (const words of input.phrases) {
    const kept = words.filter((word) => {
      if (isJsgfWord(word) && known(word)) return true;
      unknown.add(word);
      return false;
    });
    if (kept.length > 0) phrases.add(kept.join(' '));
  }
  const numberWords = numberWordsOf(input.numbers).filter((w) => known(w));
  if (phrases.size === 0 && numberWords.length === 0) return null;
  const hasPhrases = phrases.size > 0;
  // Where numbers are expected (an account number, a count), the phrases are asides such as "say that again":
  // carriers there only give a run of digits more ways to be misread ("i want" for "one").
  const carried = hasPhrases && numberWords.length === 0;
  const before = carried ? carriers(BEFORE, known) : [];
  const after = carried ? carriers(AFTER, known) : [];
  // Weighted so that nothing around the answer stays the likelier reading of a short breath or click.
  const readings: string[] = [];
  if (hasPhrases) readings.push(`/${CARRIER_ODDS}/ <answer>`);
  if (numberWords.length > 0) readings.push(`/${CARRIER_ODDS}/ <numbers>`);
  if (before.length > 0) readings.push('/1/ <before> <answer>');
  if (after.length > 0) readings.push('/1/ <answer> <after>');
  if (before.length > 0 && after.length > 0) readings.push('/1/ <before> <answer> <after>');
  const lines = ['#JSGF V1.0;', 'grammar switchboard;', `public <utterance> = ${readings.join(' | ')};`];
  if (hasPhrases) lines.push(`<answer> = ${[...phrases].join(' | ')};`);
  if (numberWords.length > 0) lines.push(...numberRules(input, numberWords));
  if (before.length > 0) lines.push(`<before> = ${before.join(' | ')};`);
  if (after.length > 0) lines.push(`<after> = ${after.join(' | ')};`);
  const words = new Set([...phrases, ...before, ...after].flatMap((p) => p.split(' ')));
  for (const w of numberWords) words.add(w);
  return {
    jsgf: lines.join('\n') + '\n',
    phrases: [...phrases],
    words: [...words],
    unknownWords: [...unknown],
  };
}

/**
 * The `<numbers>` rule: any run of number words; for digits, a run of digits where "double" and "triple" come
 * only before a digit, of the expected length when it is known.
 */
function numberRules(input: GrammarInput, words: readonly string[]): string[] {
  const digits = words.filter((w) => w !== 'double' && w !== 'triple');
  const repeats = words.filter((w) => w === 'double' || w === 'triple');
  if (input.numbers !== 'digits' || digits.length === 0)
    return ['<numbers> = <number>+;', `<number> = ${words.join(' | ')};`];
  const digitRule = `<digit> = ${digits.join(' | ')};`;
  const count = input.digitCount;
  if (count === undefined || !countable(count)) {
    const number = repeats.length > 0 ? `<digit> | (${repeats.join(' | ')}) <digit>` : '<digit>';
    return ['<numbers> = <number>+;', `<number> = ${number};`, digitRule];
  }
  // <dN> is N digits: a digit then N-1 more, or "double" a digit then N-2 more, or "triple" one then N-3.
  const lines = [
    `<numbers> = ${range(count.min, count.max)
      .map((n) => `<d${n}>`)
      .join(' | ')};`,
  ];
  for (let n = 1; n <= count.max; n++) {
    const ways = [n === 1 ? '<digit>' : `<digit> <d${n - 1}>`];
    for (const word of repeats) {
      const size = word === 'double' ? 2 : 3;
      if (n === size) ways.push(`${word} <digit>`);
      else if (n > size) ways.push(`${word} <digit> <d${n - size}>`);
    }
    // Most callers say each digit: "double" stays the less likely reading of "oh one".
    const weighted = ways.length === 1 ? ways : ways.map((way, i) => `/${i === 0 ? REPEAT_ODDS : 1}/ ${way}`);
    lines.push(`<d${n}> = ${weighted.join(' | ')};`);
  }
  lines.push(digitRule);
  return lines;
}

/** How much likelier a digit is than "double" or "triple" at any point of a counted digit string. */
const REPEAT_ODDS = 8;
// The decoder copies a rule at each reference, so counted grammars grow quickly with length: past this many
// digits, the run is left unbounded (a phone number's 15 digits would make tens of thousands of copies).
const MAX_COUNTED_DIGITS = 10;

function countable(count: DigitCount): boolean {
  return (
    Number.isInteger(count.min) &&
    Number.isInteger(count.max) &&
    count.min >= 1 &&
    count.min <= count.max &&
    count.max <= MAX_COUNTED_DIGITS
  );
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * What callers say around an answer ("uh, a large one please", "I'd like medium, thanks"). Without them the
 * decoder must force "large please" onto some listed phrase, and picks whichever sounds closest ("pardon me").
 */
const BEFORE = [
  'a',
  'just',
  'well',
  'i would like',
  'i would like a',
  "i'd like",
  "i'd like a",
  'i want',
  'i want a',
  'make it',
  'make it a',
  "let's do",
  "it's",
  'it is',
];
/** How much likelier no carrier is than some carrier. */
const CARRIER_ODDS = 20;
const AFTER = ['please', 'thanks', 'thank you', 'please thank you'];

/** The carrier phrases whose every word the dictionary has. */
function carriers(list: readonly string[], known: (word: string) => boolean): string[] {
  return list.filter((phrase) => phrase.split(' ').every((w) => isJsgfWord(w) && known(w)));
}

// Characters with a meaning in JSGF; a word holding one cannot be written as a plain token (and the dictionary
// has no such word anyway).
const JSGF_SPECIAL = /[\s;=|*+<>()[\]{}/"\\#]/;

function isJsgfWord(word: string): boolean {
  return word !== '' && !JSGF_SPECIAL.test(word);
}
