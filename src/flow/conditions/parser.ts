/** Parsing conditions into their syntax tree, with messages and offsets for the flow's author. */
import { CALL_PREFIX, CALL_REFS } from '../call-info.ts';
import { ENV_PREFIX } from '../template.ts';
import { calendarKind, toNumber } from './evaluate.ts';
import { conditionCalls, conditionSlots } from './inspect.ts';
import {
  COMPARE,
  ConditionError,
  KEYWORDS,
  ORDERING,
  describe,
  lex,
  miscasedKeyword,
  type Punct,
  type Token,
} from './lexer.ts';
import {
  CONDITION_LIMITS,
  type CompareOp,
  type Condition,
  type ConditionParse,
  type Literal,
  type Operand,
} from './types.ts';

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
    return {
      ok: true,
      value: { condition, slots: conditionSlots(condition), calls: conditionCalls(condition) },
    };
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
      case 'callValue':
        // Read as a bare slot is: it holds when it is non-empty (`call.from`: the number is known).
        return { kind: 'compare', op: '!=', left, right: { kind: 'string', value: '' } };
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
        if (t.text.includes('.')) return dottedOperand(t);
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

/**
 * `call.NAME`: what the call knows of itself. Any NAME parses, so validation can name the closest known one; no
 * other dotted name is a value a condition can read.
 */
function dottedOperand(t: Extract<Token, { type: 'word' }>): Operand {
  if (t.text.startsWith(CALL_PREFIX)) return { kind: 'callValue', name: t.text.slice(CALL_PREFIX.length) };
  const known = CALL_REFS.join(', ');
  const what = t.text.startsWith(ENV_PREFIX)
    ? 'environment variables cannot be tested in a condition'
    : 'slot names have no dot';
  throw new ConditionError(
    `${describe(t)} cannot be read here: ${what}; the names with a dot are ${known}`,
    t.start,
  );
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
