/** The condition language's tokens: words, strings, numbers and operators, with the mistakes people make. */
import { characterAt, curlyQuoteIn, isCurlyQuote, nameCharacter } from '../characters.ts';
import type { CompareOp } from './types.ts';

export const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false']);
export const ORDERING = new Set<string>(['<', '<=', '>', '>=']);
export const COMPARE = new Set<string>(['==', '!=', ...ORDERING]);

export type Punct = CompareOp | '&&' | '||' | '!' | '(' | ')' | '[' | ']' | ',';

export type Token =
  | { type: 'word'; text: string; start: number; end: number }
  | { type: 'string'; value: string; start: number; end: number }
  | { type: 'number'; value: number; text: string; start: number; end: number }
  | { type: 'punct'; text: Punct; start: number; end: number }
  | { type: 'end'; start: number; end: number };

export class ConditionError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

// A name, or names joined by dots (`call.direction`); the parser says which dotted names it reads.
const WORD = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const NUMBER = /-?\d+(?:\.\d+)?/y;
const NUMBER_RUN = /-?[A-Za-z0-9_.]*/y;
const SPACE = /\s/;
const TWO_CHAR: ReadonlySet<string> = new Set(['==', '!=', '<=', '>=', '&&', '||']);
const ONE_CHAR: ReadonlySet<string> = new Set(['<', '>', '!', '(', ')', '[', ']', ',']);
// Operators from other languages, mapped to the one the author most likely meant.
const MISTAKES: ReadonlyMap<string, string> = new Map([
  ['===', '=='],
  ['!==', '!='],
  ['<>', '!='],
  ['=>', '>='],
  ['=<', '<='],
  ['=', '=='],
  ['&', '&&'],
  ['|', '||'],
]);

export function lex(src: string, from: number): Token {
  let i = from;
  while (i < src.length && SPACE.test(src.charAt(i))) i++;
  if (i >= src.length) return { type: 'end', start: src.length, end: src.length };
  const ch = src.charAt(i);

  for (const len of [3, 2, 1]) {
    const text = src.slice(i, i + len);
    const meant = MISTAKES.get(text);
    if (meant !== undefined)
      throw new ConditionError(`unknown operator "${text}" (did you mean "${meant}"?)`, i);
    if ((len === 2 && TWO_CHAR.has(text)) || (len === 1 && ONE_CHAR.has(text))) {
      return { type: 'punct', text: text as Punct, start: i, end: i + len };
    }
  }

  if (ch === '"' || ch === "'") return lexString(src, i);

  if (ch === '-' || (ch >= '0' && ch <= '9')) {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(src);
    if (!m) throw new ConditionError('expected a digit after "-" (numbers are written like -12 or 3.5)', i);
    const end = i + m[0].length;
    if (/[A-Za-z0-9_.]/.test(src.charAt(end))) {
      NUMBER_RUN.lastIndex = i;
      const run = NUMBER_RUN.exec(src)?.[0] ?? m[0];
      throw new ConditionError(`invalid number "${clip(run)}" (numbers are written like -12 or 3.5)`, i);
    }
    const value = Number(m[0]);
    if (!Number.isFinite(value)) throw new ConditionError(`number ${clip(m[0])} is too large`, i);
    // -0 would not survive a JSON round trip and compares equal to 0 anyway.
    return { type: 'number', value: value + 0, text: m[0], start: i, end };
  }

  WORD.lastIndex = i;
  const word = WORD.exec(src);
  if (word) return { type: 'word', text: word[0], start: i, end: i + word[0].length };

  const cp = characterAt(src, i);
  if (isCurlyQuote(cp)) {
    throw new ConditionError(`unexpected character ${nameCharacter(cp)}: use straight quotes " or '`, i);
  }
  throw new ConditionError(`unexpected character ${JSON.stringify(cp)}`, i);
}

function lexString(src: string, start: number): Token {
  const quote = src.charAt(start);
  let value = '';
  let j = start + 1;
  for (;;) {
    if (j >= src.length) {
      // "delivery” reads as closed on screen: name the curly quote that does not close it.
      const curly = curlyQuoteIn(src, start + 1, src.length);
      const why =
        curly < 0
          ? ` (add a closing ${quote})`
          : `: ${nameCharacter(src.charAt(curly))} at offset ${curly} does not close it; use a straight ${quote}`;
      throw new ConditionError(`unclosed string starting at offset ${start}${why}`, start);
    }
    const c = src.charAt(j);
    if (c === quote) return { type: 'string', value, start, end: j + 1 };
    if (c === '\\') {
      const e = src.charAt(j + 1);
      if (e === '"' || e === "'" || e === '\\') {
        value += e;
        j += 2;
        continue;
      }
      if (e !== '') {
        throw new ConditionError(`unknown escape "\\${e}" in string (only \\", \\' and \\\\ are allowed)`, j);
      }
    }
    value += c;
    j++;
  }
}

export function clip(text: string): string {
  return text.length > 24 ? `${text.slice(0, 21)}...` : text;
}

export function describe(t: Token): string {
  switch (t.type) {
    case 'end':
      return 'end of condition';
    case 'string':
      return `string ${JSON.stringify(clip(t.value))}`;
    case 'number':
      return `number ${clip(t.text)}`;
    case 'word':
    case 'punct':
      return `"${clip(t.text)}"`;
  }
}

/** "AND" for "and": a word that reads as an operator but is not spelt like one. */
export function miscasedKeyword(t: Token): string | undefined {
  if (t.type !== 'word') return undefined;
  const lower = t.text.toLowerCase();
  return lower !== t.text && KEYWORDS.has(lower) ? lower : undefined;
}
