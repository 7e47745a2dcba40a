/**
 * Splitting a prompt into sentences. A prompt is synthesized and cached sentence by sentence, so the caller hears
 * the first sentence while the rest are still being synthesized (a three-sentence greeting starts after its first
 * sentence's synthesis rather than the whole prompt's), and sentences that several prompts share, or the fixed
 * sentences around a read-back number, are synthesized once.
 */

/** Words that end with a full stop but do not end a sentence ("Dr. Smith"). Compared in lower case. */
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'st',
  'no',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'approx',
  'dept',
  'ave',
  'jr',
  'sr',
]);

/** Sentence end: . ! or ? (with any closing quotes or brackets), whitespace, then a capital letter or a digit. */
const BOUNDARY = /[.!?]+["')\]]*\s+(?=[\p{Lu}\p{N}])/gu;

/**
 * The sentences of `text`, trimmed, in order, none empty. Joined with single spaces they give back the text with
 * its whitespace runs between sentences collapsed. Text without a sentence boundary comes back whole.
 */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  let from = 0;
  for (const match of text.matchAll(BOUNDARY)) {
    const end = match.index + match[0].length;
    const sentence = text.slice(from, end).trim();
    if (endsWithAbbreviation(sentence)) continue;
    sentences.push(sentence);
    from = end;
  }
  const rest = text.slice(from).trim();
  if (rest !== '') sentences.push(rest);
  return sentences;
}

function endsWithAbbreviation(sentence: string): boolean {
  const lastWord = /(\S+?)\.["')\]]*$/u.exec(sentence)?.[1];
  if (lastWord === undefined) return false;
  // A single letter is an initial ("J. Smith") more often than a sentence's last word.
  return ABBREVIATIONS.has(lastWord.toLowerCase()) || /^\p{L}$/u.test(lastWord);
}
