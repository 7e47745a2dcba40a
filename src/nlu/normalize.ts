/**
 * Text normalization shared by intent matching and entity extraction, so an example written in a flow and a
 * transcript from any speech engine compare equal whatever their case, punctuation or spacing.
 */

// Apostrophes are deleted rather than turned into spaces, so "I'd" and "Id" (as engines often spell it)
// both become "id", and "that's" becomes "thats".
const APOSTROPHES = /['\u2018\u2019\u02BC\u02B9\u2032`]/g;
const NOT_WORD = /[^\p{L}\p{M}\p{N}]+/gu;

/**
 * Lower case, Unicode NFKC, apostrophes removed ("I'd" → "id"), every other run of punctuation or space
 * turned into one space, trimmed. "3:30" becomes "3 30": this form is for matching, not for reading values.
 */
export function normalizeUtterance(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFKC')
    .replace(APOSTROPHES, '')
    .replace(NOT_WORD, ' ')
    .trim();
}

/** The words of an utterance after normalization; empty for an utterance of punctuation only. */
export function words(text: string): string[] {
  const normalized = normalizeUtterance(text);
  return normalized === '' ? [] : normalized.split(' ');
}

/** Lower case, NFKC and no apostrophes, but punctuation kept, for extractors that read "3:30" or "3/14". */
export function foldCase(text: string): string {
  return text.normalize('NFKC').toLowerCase().normalize('NFKC').replace(APOSTROPHES, '');
}
