/**
 * Transition conditions: a small declarative language over slot values, e.g. `size == "large" && count >= 2`.
 * Sources are parsed into a JSON-serialisable AST and interpreted; nothing is ever handed to `eval`.
 *
 *   condition  := or
 *   or         := and (("||" | "or") and)*
 *   and        := unary (("&&" | "and") unary)*
 *   unary      := ("!" | "not") unary | "(" condition ")" | test
 *   test       := operand [ ("==" | "!=" | "<" | "<=" | ">" | ">=") operand | ["not"] "in" list ]
 *   list       := "[" [ literal ("," literal)* ] "]"
 *   operand    := slot | literal
 *   literal    := "text" | 'text' | number | true | false
 *
 * A bare slot is true when the slot has a non-empty value. Absent slots read as "".
 */
import { characterAt, curlyQuoteIn, isCurlyQuote, nameCharacter } from './characters.ts';

/** A value written in the condition itself. */
export type Literal =
  { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'boolean'; value: boolean };

export type Operand = Literal | { kind: 'slot'; name: string };

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Condition =
  | { kind: 'constant'; value: boolean }
  | { kind: 'present'; slot: string }
  | { kind: 'compare'; op: CompareOp; left: Operand; right: Operand }
  | { kind: 'in'; negated: boolean; value: Operand; list: Literal[] }
  | { kind: 'not'; condition: Condition }
  | { kind: 'and'; conditions: Condition[] }
  | { kind: 'or'; conditions: Condition[] };

export interface ParsedCondition {
  condition: Condition;
  /** Distinct slot names referenced, in order of appearance. */
  slots: string[];
}

export type ConditionParse =
  { ok: true; value: ParsedCondition } | { ok: false; message: string; offset: number };

export const CONDITION_LIMITS = { maxLength: 500, maxDepth: 32, maxOperands: 64 } as const;

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false']);
const ORDERING = new Set<string>(['<', '<=', '>', '>=']);
const COMPARE = new Set<string>(['==', '!=', ...ORDERING]);

// ---------------------------------------------------------------------------------------------------------------
// Lexer

type Punct = CompareOp | '&&' | '||' | '!' | '(' | ')' | '[' | ']' | ',';

type Token =
  | { type: 'word'; text: string; start: number; end: number }
  | { type: 'string'; value: string; start: number; end: number }
  | { type: 'number'; value: number; text: string; start: number; end: number }
  | { type: 'punct'; text: Punct; start: number; end: number }
  | { type: 'end'; start: number; end: number };

class ConditionError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
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

function lex(src: string, from: number): Token {
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

function clip(text: string): string {
  return text.length > 24 ? `${text.slice(0, 21)}...` : text;
}

function describe(t: Token): string {
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
function miscasedKeyword(t: Token): string | undefined {
  if (t.type !== 'word') return undefined;
  const lower = t.text.toLowerCase();
  return lower !== t.text && KEYWORDS.has(lower) ? lower : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Parser

/** Parse a condition; errors carry a message for the flow's author and the 0-based offset of the problem. */
export function parseCondition(source: string): ConditionParse {
  if (typeof source !== 'string') return { ok: false, message: 'a condition must be a string', offset: 0 };
  if (source.length > CONDITION_LIMITS.maxLength) {
    return {
      ok: false,
      message: `condition is too long: ${source.length} characters, at most ${CONDITION_LIMITS.maxLength}`,
      offset: CONDITION_LIMITS.maxLength,
    };
  }
  try {
    const condition = new Parser(source).parse();
    return { ok: true, value: { condition, slots: conditionSlots(condition) } };
  } catch (error) {
    if (error instanceof ConditionError) return { ok: false, message: error.message, offset: error.offset };
    throw error;
  }
}

// Not a type guard on purpose: narrowing `this.tok` would outlive the calls that advance it.
const isEnd = (t: Token): boolean => t.type === 'end';
const isPunct = (t: Token, p: Punct): boolean => t.type === 'punct' && t.text === p;
const isWord = (t: Token, w: string): boolean => t.type === 'word' && t.text === w;
const isAnd = (t: Token): boolean => isPunct(t, '&&') || isWord(t, 'and');
const isOr = (t: Token): boolean => isPunct(t, '||') || isWord(t, 'or');
const isNot = (t: Token): boolean => isPunct(t, '!') || isWord(t, 'not');
const isCompare = (t: Token): t is Extract<Token, { type: 'punct' }> & { text: CompareOp } =>
  t.type === 'punct' && COMPARE.has(t.text);
const startsOperand = (t: Token): boolean =>
  t.type === 'string' ||
  t.type === 'number' ||
  (t.type === 'word' && (!KEYWORDS.has(t.text) || t.text === 'true' || t.text === 'false'));

class Parser {
  private readonly src: string;
  private tok: Token;
  private ahead: Token | undefined;
  private depth = 0;
  private operands = 0;

  constructor(src: string) {
    this.src = src;
    this.tok = lex(src, 0);
  }

  parse(): Condition {
    if (isEnd(this.tok)) throw new ConditionError('condition is empty', 0);
    const condition = this.parseOr(undefined);
    const t = this.tok;
    if (t.type === 'end') return condition;
    if (isPunct(t, ')')) throw new ConditionError('unexpected ")" with no matching "("', t.start);
    throw new ConditionError(
      `expected "&&", "||" or end of condition but found ${describe(t)}${caseHint(t)}`,
      t.start,
    );
  }

  private advance(): Token {
    const t = this.tok;
    this.tok = this.ahead ?? lex(this.src, t.end);
    this.ahead = undefined;
    return t;
  }

  private peekNext(): Token {
    this.ahead ??= lex(this.src, this.tok.end);
    return this.ahead;
  }

  private enter(t: Token): void {
    if (++this.depth > CONDITION_LIMITS.maxDepth) {
      throw new ConditionError(
        `nested too deeply: at most ${CONDITION_LIMITS.maxDepth} levels of parentheses and "!"`,
        t.start,
      );
    }
  }

  private parseOr(after: Token | undefined): Condition {
    const items = [this.parseAnd(after)];
    while (isOr(this.tok)) items.push(this.parseAnd(this.advance()));
    return join('or', items);
  }

  private parseAnd(after: Token | undefined): Condition {
    const items = [this.parseUnary(after, undefined)];
    while (isAnd(this.tok)) items.push(this.parseUnary(this.advance(), undefined));
    return join('and', items);
  }

  /** `bang` is the "!" directly before this operand, if any, so `!x == 1` can be flagged as ambiguous. */
  private parseUnary(after: Token | undefined, bang: Token | undefined): Condition {
    const t = this.tok;
    if (isNot(t)) {
      this.advance();
      this.enter(t);
      const condition = this.parseUnary(t, t);
      this.depth--;
      return { kind: 'not', condition };
    }
    if (isPunct(t, '(')) {
      this.advance();
      this.enter(t);
      const inner = this.parseOr(t);
      const close = this.tok;
      if (!isPunct(close, ')')) {
        const wanted = close.type === 'end' ? '")"' : '"&&", "||" or ")"';
        throw new ConditionError(
          `expected ${wanted} to close the "(" at offset ${t.start} but found ${describe(close)}${caseHint(close)}`,
          close.start,
        );
      }
      this.advance();
      this.depth--;
      return inner;
    }
    if (!startsOperand(t)) {
      const where = after ? ` after ${describe(after)}` : '';
      throw new ConditionError(`expected a condition${where} but found ${describe(t)}`, t.start);
    }
    return this.parseTest(t, bang);
  }

  private parseTest(first: Token, bang: Token | undefined): Condition {
    const left = this.parseOperand(first);
    const op = this.tok;
    const negatedIn = isWord(op, 'not') && isWord(this.peekNext(), 'in');
    if (bang && (isCompare(op) || isWord(op, 'in') || negatedIn)) {
      const b = bang.type === 'word' ? 'not ' : '!';
      throw new ConditionError(
        `"${b.trim()}" before a comparison is ambiguous: write ${b}(a == b) to negate the whole comparison, or use "!=" or "not in"`,
        bang.start,
      );
    }

    if (isCompare(op)) {
      this.advance();
      const rt = this.tok;
      if (!startsOperand(rt)) {
        throw new ConditionError(
          `expected a value after ${describe(op)} but found ${describe(rt)}`,
          rt.start,
        );
      }
      const right = this.parseOperand(rt);
      if (ORDERING.has(op.text)) {
        checkNumeric(op.text, first, left);
        checkNumeric(op.text, rt, right);
      }
      if (isCompare(this.tok)) {
        throw new ConditionError(
          `comparisons cannot be chained: join them with "&&", e.g. a < b && b < c`,
          this.tok.start,
        );
      }
      return { kind: 'compare', op: op.text, left, right };
    }

    if (isWord(op, 'in') || negatedIn) {
      if (negatedIn) this.advance();
      return { kind: 'in', negated: negatedIn, value: left, list: this.parseList(this.advance()) };
    }
    if (isWord(op, 'not')) {
      const next = this.peekNext();
      throw new ConditionError(`expected "in" after "not" but found ${describe(next)}`, next.start);
    }

    if (startsOperand(op) || isPunct(op, '(')) {
      throw new ConditionError(
        `expected an operator such as "==", "in" or "&&" after ${describe(first)} but found ${describe(op)}`,
        op.start,
      );
    }
    switch (left.kind) {
      case 'slot':
        return { kind: 'present', slot: left.name };
      case 'boolean':
        return { kind: 'constant', value: left.value };
      default:
        throw new ConditionError(
          `${describe(first)} on its own is not a condition: compare it with a slot, e.g. size == 'large'`,
          first.start,
        );
    }
  }

  private parseOperand(t: Token): Operand {
    const lower = miscasedKeyword(t);
    if (lower !== undefined) {
      throw new ConditionError(
        `${describe(t)} cannot be a slot name; operator words are lowercase: "${lower}"`,
        t.start,
      );
    }
    if (++this.operands > CONDITION_LIMITS.maxOperands) {
      throw new ConditionError(
        `too many values: a condition may use at most ${CONDITION_LIMITS.maxOperands} slots and literals`,
        t.start,
      );
    }
    this.advance();
    switch (t.type) {
      case 'string':
        return { kind: 'string', value: t.value };
      case 'number':
        return { kind: 'number', value: t.value };
      case 'word':
        if (t.text === 'true' || t.text === 'false') return { kind: 'boolean', value: t.text === 'true' };
        return { kind: 'slot', name: t.text };
      default:
        // Unreachable: callers check startsOperand first.
        throw new ConditionError(`expected a value but found ${describe(t)}`, t.start);
    }
  }

  private parseList(inTok: Token): Literal[] {
    const open = this.tok;
    if (!isPunct(open, '[')) {
      throw new ConditionError(
        `expected "[" after ${describe(inTok)} but found ${describe(open)} (lists look like ['small', 'medium'])`,
        open.start,
      );
    }
    this.advance();
    const list: Literal[] = [];
    if (isPunct(this.tok, ']')) {
      this.advance();
      return list;
    }
    let after = open;
    for (;;) {
      const t = this.tok;
      if (t.type === 'word' && !KEYWORDS.has(t.text) && miscasedKeyword(t) === undefined) {
        throw new ConditionError(
          `list items must be quoted text, numbers, true or false, but found the bare word ${t.text}: put it in quotes, e.g. '${t.text}'`,
          t.start,
        );
      }
      if (!startsOperand(t)) {
        throw new ConditionError(
          `expected a value after ${describe(after)} but found ${describe(t)}`,
          t.start,
        );
      }
      list.push(this.parseOperand(t) as Literal);
      const next = this.tok;
      if (isPunct(next, ']')) {
        this.advance();
        return list;
      }
      if (!isPunct(next, ',')) {
        throw new ConditionError(
          next.type === 'end'
            ? `expected "]" to close the list starting at offset ${open.start} but found end of condition`
            : `expected "," or "]" in the list but found ${describe(next)}`,
          next.start,
        );
      }
      after = this.advance();
    }
  }
}

function join(kind: 'and' | 'or', items: Condition[]): Condition {
  const [first] = items;
  return items.length === 1 && first ? first : { kind, conditions: items };
}

function caseHint(t: Token): string {
  const lower = miscasedKeyword(t);
  return lower === undefined ? '' : ` (operator words are lowercase: "${lower}")`;
}

// Ordering a literal that can never be a number (nor a date or time) is a mistake worth reporting rather than a
// silent false.
function checkNumeric(op: string, t: Token, operand: Operand): void {
  if (operand.kind === 'string' && calendarKind(operand.value) !== undefined) return;
  if (operand.kind === 'string') {
    const hint =
      toNumber(operand.value) === undefined ? '' : ` (write ${operand.value.trim()} without quotes)`;
    throw new ConditionError(`"${op}" compares numbers but found ${describe(t)}${hint}`, t.start);
  }
  if (operand.kind === 'boolean') {
    throw new ConditionError(`"${op}" compares numbers but found ${describe(t)}`, t.start);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

// Far beyond what the parser produces; guards hand-written ASTs against unbounded recursion.
const MAX_EVAL_DEPTH = 256;
// Plain decimals only: "0x10", "1e3" and "Infinity" stay text, as a caller would read them.
const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)\s*$/;

function toNumber(text: string): number | undefined {
  if (!NUMERIC.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** A resolved operand. `from` records how it was written: quoted text never compares as a number. */
interface Value {
  text: string;
  num: number | undefined;
  from: 'slot' | 'text' | 'number' | 'word' | 'invalid';
}

const INVALID: Value = { text: '', num: undefined, from: 'invalid' };

type Reader = (name: unknown) => string;

/**
 * Evaluate a condition against the call's slots. Total: malformed nodes (from hand-written JSON) evaluate to
 * false rather than throwing.
 */
export function evaluateCondition(condition: Condition, slots: Readonly<Record<string, string>>): boolean {
  // Own properties only, so a slot named "constructor" is absent rather than Object's constructor.
  const read: Reader = (name) => {
    if (typeof name !== 'string' || typeof slots !== 'object' || slots === null) return '';
    if (!Object.hasOwn(slots, name)) return '';
    const value: unknown = slots[name];
    return typeof value === 'string' ? value : '';
  };
  return evaluate(condition, read, 0);
}

function evaluate(c: Condition, read: Reader, depth: number): boolean {
  if (depth > MAX_EVAL_DEPTH || typeof c !== 'object' || c === null) return false;
  switch (c.kind) {
    case 'constant':
      return c.value === true;
    case 'present':
      return read(c.slot) !== '';
    case 'compare':
      return compare(c.op, resolve(c.left, read), resolve(c.right, read));
    case 'in': {
      if (!Array.isArray(c.list)) return false;
      const value = resolve(c.value, read);
      const found = c.list.some((item) => equal(value, resolve(item, read)));
      return c.negated === true ? !found : found;
    }
    case 'not':
      return !evaluate(c.condition, read, depth + 1);
    case 'and':
      return Array.isArray(c.conditions) && c.conditions.every((x) => evaluate(x, read, depth + 1));
    case 'or':
      return Array.isArray(c.conditions) && c.conditions.some((x) => evaluate(x, read, depth + 1));
    default:
      return false;
  }
}

function resolve(o: Operand, read: Reader): Value {
  if (typeof o !== 'object' || o === null) return INVALID;
  switch (o.kind) {
    case 'slot': {
      const text = read(o.name);
      return { text, num: toNumber(text), from: 'slot' };
    }
    case 'string':
      return typeof o.value === 'string' ? { text: o.value, num: undefined, from: 'text' } : INVALID;
    case 'number':
      return typeof o.value === 'number' && Number.isFinite(o.value)
        ? { text: String(o.value), num: o.value, from: 'number' }
        : INVALID;
    case 'boolean':
      return typeof o.value === 'boolean' ? { text: String(o.value), num: undefined, from: 'word' } : INVALID;
    default:
      return INVALID;
  }
}

// Numbers compare by value ("07" == 7); quoted text compares exactly, so a PIN '0071' never matches "71".
function equal(a: Value, b: Value): boolean {
  if (a.from === 'invalid' || b.from === 'invalid') return false;
  if (a.from !== 'text' && b.from !== 'text' && a.num !== undefined && b.num !== undefined)
    return a.num === b.num;
  if (a.from === 'number' || b.from === 'number') return false;
  return a.text === b.text;
}

/**
 * Dates (YYYY-MM-DD) and times (HH:MM), the canonical forms of the date and time entities, order correctly as
 * text; `time >= "09:00"` compares them so. Any other text has no order.
 */
function calendarKind(text: string): 'date' | 'time' | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return 'date';
  if (/^\d{2}:\d{2}$/.test(text)) return 'time';
  return undefined;
}

function compare(op: CompareOp, a: Value, b: Value): boolean {
  if (op === '==') return equal(a, b);
  if (op === '!=') return !equal(a, b);
  let left: number | string;
  let right: number | string;
  if (a.from === 'invalid' || b.from === 'invalid') return false;
  if (a.from !== 'text' && b.from !== 'text' && a.num !== undefined && b.num !== undefined) {
    [left, right] = [a.num, b.num];
  } else {
    const kind = calendarKind(a.text);
    if (kind === undefined || calendarKind(b.text) !== kind) return false;
    [left, right] = [a.text, b.text];
  }
  switch (op) {
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Inspection

/** Distinct slot names a condition reads, in order of appearance. */
export function conditionSlots(condition: Condition): string[] {
  const seen = new Set<string>();
  const operand = (o: Operand): void => {
    if (typeof o === 'object' && o !== null && o.kind === 'slot' && typeof o.name === 'string')
      seen.add(o.name);
  };
  const visit = (c: Condition, depth: number): void => {
    if (depth > MAX_EVAL_DEPTH || typeof c !== 'object' || c === null) return;
    switch (c.kind) {
      case 'present':
        if (typeof c.slot === 'string') seen.add(c.slot);
        return;
      case 'compare':
        operand(c.left);
        operand(c.right);
        return;
      case 'in':
        operand(c.value);
        return;
      case 'not':
        visit(c.condition, depth + 1);
        return;
      case 'and':
      case 'or':
        if (Array.isArray(c.conditions)) for (const x of c.conditions) visit(x, depth + 1);
        return;
      default:
        return;
    }
  };
  visit(condition, 0);
  return [...seen];
}

/** Print a condition in the source syntax; parsing the result gives back the same condition. */
export function formatCondition(condition: Condition): string {
  switch (condition.kind) {
    case 'constant':
      return String(condition.value);
    case 'present':
      return condition.slot;
    case 'compare':
      return `${formatOperand(condition.left)} ${condition.op} ${formatOperand(condition.right)}`;
    case 'in':
      return `${formatOperand(condition.value)} ${condition.negated ? 'not in' : 'in'} [${condition.list
        .map(formatOperand)
        .join(', ')}]`;
    case 'not': {
      const inner = condition.condition;
      const bare = inner.kind === 'present' || inner.kind === 'constant' || inner.kind === 'not';
      return bare ? `!${formatCondition(inner)}` : `!(${formatCondition(inner)})`;
    }
    case 'and':
    case 'or': {
      const { kind, conditions } = condition;
      if (conditions.length === 0) return String(kind === 'and');
      // "&&" binds tighter than "||", so only same-level or weaker children need parentheses.
      const wrap = (c: Condition): string =>
        c.kind === 'or' || (c.kind === 'and' && kind === 'and')
          ? `(${formatCondition(c)})`
          : formatCondition(c);
      return conditions.length === 1 && conditions[0]
        ? formatCondition(conditions[0])
        : conditions.map(wrap).join(kind === 'and' ? ' && ' : ' || ');
    }
  }
}

function formatOperand(o: Operand): string {
  switch (o.kind) {
    case 'slot':
      return o.name;
    case 'string':
      return `"${o.value.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
    case 'number':
      return decimal(o.value);
    case 'boolean':
      return String(o.value);
  }
}

/** A number in plain decimal: the condition syntax has no exponents, but String(1e21) is "1e+21". */
function decimal(n: number): string {
  const text = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign = '', lead = '', frac = '', exp = '0'] = m;
  const digits = lead + frac;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
