/**
 * A JSGF grammar of the phrases a closed question expects ("yes", "large pizza", "talk to a person"): with it the
 * decoder only chooses among them, which is what makes an offline model accurate on phone audio.
 */
import { NUMBER_WORDS } from './words.ts';

export interface GrammarInput {
  /** Each expected phrase as dictionary words (see phraseWords). */
  phrases: readonly (readonly string[])[];
  /** Add any sequence of number words ("four five six", "twenty two") as an alternative. */
  numbers: boolean;
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
  const numberWords = input.numbers ? NUMBER_WORDS.filter((w) => known(w)) : [];
  const alternatives = [...phrases];
  if (numberWords.length > 0) alternatives.push('<number>+');
  if (alternatives.length === 0) return null;
  const lines = ['#JSGF V1.0;', 'grammar switchboard;', `public <utterance> = ${alternatives.join(' | ')};`];
  if (numberWords.length > 0) lines.push(`<number> = ${numberWords.join(' | ')};`);
  const words = new Set([...phrases].flatMap((p) => p.split(' ')));
  for (const w of numberWords) words.add(w);
  return {
    jsgf: lines.join('\n') + '\n',
    phrases: [...phrases],
    words: [...words],
    unknownWords: [...unknown],
  };
}

// Characters with a meaning in JSGF; a word holding one cannot be written as a plain token (and the dictionary
// has no such word anyway).
const JSGF_SPECIAL = /[\s;=|*+<>()[\]{}/"\\#]/;

function isJsgfWord(word: string): boolean {
  return word !== '' && !JSGF_SPECIAL.test(word);
}
