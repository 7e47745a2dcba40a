/**
 * Naming a character that does not belong, in the parse errors of flow files and conditions. A word processor
 * turns straight quotes into curly ones that look almost the same on screen, so a message names the character,
 * its code point and what it is.
 */

const CURLY_QUOTES: ReadonlySet<string> = new Set(['\u201c', '\u201d', '\u2018', '\u2019']);

// Letters, digits, punctuation and symbols are shown as they are; spaces and invisible ones by code point only.
const VISIBLE = /^[\p{L}\p{N}\p{P}\p{S}]$/u;

/** Is `ch` one of the curly quotes “ ” ‘ ’? */
export function isCurlyQuote(ch: string): boolean {
  return CURLY_QUOTES.has(ch);
}

/** The whole character (code point) starting at `offset`. */
export function characterAt(text: string, offset: number): string {
  const code = text.codePointAt(offset);
  return code === undefined ? '' : String.fromCodePoint(code);
}

/** `“ (U+201C, a curly quote)`, `@ (U+0040)`, or `U+00A0` for a character that cannot be seen. */
export function nameCharacter(ch: string): string {
  const code = `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  const what = isCurlyQuote(ch) ? `${code}, a curly quote` : code;
  return VISIBLE.test(ch) ? `${ch} (${what})` : what;
}

/** The offset of the first curly quote in `text` from `from` up to `to`, or -1. */
export function curlyQuoteIn(text: string, from: number, to: number): number {
  for (let i = from; i < Math.min(to, text.length); i++) if (isCurlyQuote(text.charAt(i))) return i;
  return -1;
}
