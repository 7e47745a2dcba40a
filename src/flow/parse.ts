/**
 * Flow text to a value, strictly: plain JSON (no comments, no trailing commas), at most MAX_FLOW_BYTES, and no
 * key twice in one object. JSON.parse keeps the last of two equal keys without a word, so a DTMF key bound
 * twice would silently lose one binding; here it is an error at the duplicate's pointer.
 */
import { printParseErrorCode, visit, type ParseErrorCode } from 'jsonc-parser';
import { characterAt, curlyQuoteIn, isCurlyQuote, nameCharacter } from './characters.ts';
import { escapePointer, finding, validateFlow, type Finding, type ValidationResult } from './validate.ts';

export const MAX_FLOW_BYTES = 5 * 1024 * 1024;
/** Deeper than any flow needs; the parser recurses per level, so this also keeps it off the stack limit. */
const MAX_DEPTH = 64;

export type ParseResult = { ok: true; value: unknown } | { ok: false; findings: Finding[] };

const SYNTAX: Partial<Record<string, string>> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected ":"',
  CommaExpected: 'expected ","',
  CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"',
  EndOfFileExpected: 'unexpected text after the end of the JSON value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in a string (control characters must be escaped)',
};

/** Thrown from inside the visitor to stop parsing at the first syntax error. */
class Stop extends Error {}

interface Container {
  value: Record<string, unknown> | unknown[];
  pointer: string;
  keys: Set<string> | null;
  key: string;
}

/** Parse a flow file's text; duplicate keys, syntax errors and oversized text are error findings. */
export function parseFlowText(text: string): ParseResult {
  const { value, findings } = parseLenient(text);
  return findings.length > 0 || value === undefined ? { ok: false, findings } : { ok: true, value };
}

/** Parse, validate and run the static checks on a flow file's text. */
export function checkFlowText(text: string): ValidationResult {
  const { value, findings } = parseLenient(text);
  if (value === undefined) return { ok: false, findings };
  // A duplicate key leaves a well-formed value, so the rest of the file is still checked in the same pass.
  const result = validateFlow(value);
  if (findings.length === 0) return result;
  return { ok: false, findings: [...findings, ...result.findings] };
}

/** The value (undefined after a syntax error) and the findings: syntax, size, duplicate keys. */
function parseLenient(text: string): { value: unknown; findings: Finding[] } {
  // text.length never exceeds the UTF-8 size, so the cheap test settles most oversized texts.
  if (text.length > MAX_FLOW_BYTES || Buffer.byteLength(text, 'utf8') > MAX_FLOW_BYTES) {
    const size = (Buffer.byteLength(text, 'utf8') / (1024 * 1024)).toFixed(1);
    return {
      value: undefined,
      findings: [
        finding(
          'error',
          '',
          `the file is too large to be a flow: ${size} MiB, the limit is ${MAX_FLOW_BYTES / (1024 * 1024)} MiB`,
          'split it into several flows',
        ),
      ],
    };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const findings: Finding[] = [];
  const stack: Container[] = [];
  let root: unknown;
  let hasRoot = false;

  const place = (value: unknown): string => {
    const top = stack[stack.length - 1];
    if (!top) {
      root = value;
      hasRoot = true;
      return '';
    }
    if (Array.isArray(top.value)) {
      const pointer = `${top.pointer}/${top.value.length}`;
      top.value.push(value);
      return pointer;
    }
    // defineProperty, so a "__proto__" key is an own property as with JSON.parse, not the object's prototype.
    Object.defineProperty(top.value, top.key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return `${top.pointer}/${escapePointer(top.key)}`;
  };
  const open = (value: Container['value'], line: number, column: number): void => {
    if (stack.length >= MAX_DEPTH) {
      findings.push(
        finding(
          'error',
          '',
          `line ${line + 1}, column ${column + 1}: nested deeper than ${MAX_DEPTH} levels`,
        ),
      );
      throw new Stop();
    }
    const pointer = place(value);
    stack.push({ value, pointer, keys: Array.isArray(value) ? null : new Set(), key: '' });
  };

  try {
    visit(
      text,
      {
        onObjectBegin: (_offset, _length, line, column) => open({}, line, column),
        onArrayBegin: (_offset, _length, line, column) => open([], line, column),
        onObjectEnd: () => void stack.pop(),
        onArrayEnd: () => void stack.pop(),
        onObjectProperty: (key, _offset, _length, line, column) => {
          const top = stack[stack.length - 1];
          if (!top?.keys) return;
          if (top.keys.has(key)) {
            findings.push(
              finding(
                'error',
                `${top.pointer}/${escapePointer(key)}`,
                `duplicate key "${key}" (line ${line + 1}, column ${column + 1}): JSON keeps only the last one`,
                'each key may appear once per object; for "on", bind each input to one target',
              ),
            );
          }
          top.keys.add(key);
          top.key = key;
        },
        onLiteralValue: (value) => void place(value),
        onError: (code: ParseErrorCode, offset, length, line, column) => {
          const name = printParseErrorCode(code);
          const { message, hint } = syntaxError(name, text, offset, length, line, column);
          findings.push(finding('error', '', `line ${line + 1}, column ${column + 1}: ${message}`, hint));
          throw new Stop();
        },
      },
      { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
    );
  } catch (err) {
    if (err instanceof RangeError) {
      findings.push(finding('error', '', 'the file is nested too deeply to read'));
    } else if (!(err instanceof Stop)) throw err;
    return { value: undefined, findings };
  }
  if (!hasRoot) {
    findings.push(finding('error', '', 'the file is empty; a flow is a JSON object'));
    return { value: undefined, findings };
  }
  return { value: root, findings };
}

const TRAILING_COMMA = 'trailing comma: JSON allows no "," before "}" or "]"';
const STRAIGHT_QUOTES = 'JSON needs straight double quotes "';
const SMART_QUOTES_HINT =
  'a word processor or chat app turns quotes curly: edit flows in a code editor, or turn off smart quotes';

/** What a syntax error at `offset` (0-based `line` and `column`) means, naming a stray character. */
function syntaxError(
  name: string,
  text: string,
  offset: number,
  length: number,
  line: number,
  column: number,
): { message: string; hint?: string } {
  if (afterComma(text, offset) && /Expected$/.test(name)) return { message: TRAILING_COMMA };
  if (name === 'InvalidSymbol') {
    const ch = characterAt(text, offset);
    const message = `unexpected character ${nameCharacter(ch)}`;
    if (isCurlyQuote(ch)) return { message: `${message}: ${STRAIGHT_QUOTES}`, hint: SMART_QUOTES_HINT };
    return { message: ch === "'" ? `${message}: ${STRAIGHT_QUOTES}` : message };
  }
  // A string opened with a straight quote and meant to be closed with a curly one runs to the end of the line.
  const curly = name === 'UnexpectedEndOfString' ? curlyQuoteIn(text, offset + 1, offset + length) : -1;
  if (curly >= 0) {
    const where = `line ${line + 1}, column ${column + 1 + curly - offset}`;
    return {
      message: `unterminated string: ${nameCharacter(text.charAt(curly))} at ${where} does not close it; ${STRAIGHT_QUOTES}`,
      hint: SMART_QUOTES_HINT,
    };
  }
  return { message: SYNTAX[name] ?? name };
}

/** Is the token at `offset` a closing bracket right after a comma (blanks aside)? */
function afterComma(text: string, offset: number): boolean {
  if (text[offset] !== '}' && text[offset] !== ']') return false;
  let i = offset - 1;
  while (i >= 0 && /\s/.test(text[i] ?? '')) i--;
  return text[i] === ',';
}
