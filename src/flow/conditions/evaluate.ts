/** Evaluating a condition against a call's slots and what it knows of itself; total, never throwing. */
import { readCall, type CallInfo } from '../call-info.ts';
import type { CompareOp, Condition, Operand } from './types.ts';

// Far beyond what the parser produces; guards hand-written ASTs against unbounded recursion.
export const MAX_EVAL_DEPTH = 256;
// Plain decimals only: "0x10", "1e3" and "Infinity" stay text, as a caller would read them.
const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)\s*$/;

export function toNumber(text: string): number | undefined {
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

/** Reads a slot (`slot`) or a `call.` name (`call`); empty text for anything absent. */
interface Reader {
  slot: (name: unknown) => string;
  call: (name: unknown) => string;
}

/**
 * Evaluate a condition against the call's slots and `call` (absent: an inbound call, numbers unknown). Total:
 * malformed nodes (from hand-written JSON) evaluate to false rather than throwing.
 */
export function evaluateCondition(
  condition: Condition,
  slots: Readonly<Record<string, string>>,
  call?: CallInfo,
): boolean {
  const read: Reader = {
    // Own properties only, so a slot named "constructor" is absent rather than Object's constructor.
    slot: (name) => {
      if (typeof name !== 'string' || typeof slots !== 'object' || slots === null) return '';
      if (!Object.hasOwn(slots, name)) return '';
      const value: unknown = slots[name];
      return typeof value === 'string' ? value : '';
    },
    call: (name) => (typeof name === 'string' ? readCall(call, name) : ''),
  };
  return evaluate(condition, read, 0);
}

function evaluate(c: Condition, read: Reader, depth: number): boolean {
  if (depth > MAX_EVAL_DEPTH || typeof c !== 'object' || c === null) return false;
  switch (c.kind) {
    case 'constant':
      return c.value === true;
    case 'present':
      return read.slot(c.slot) !== '';
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
      const text = read.slot(o.name);
      return { text, num: toNumber(text), from: 'slot' };
    }
    case 'callValue': {
      // Compared as a slot is: what the call knows is data, like what the caller said.
      const text = read.call(o.name);
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
export function calendarKind(text: string): 'date' | 'time' | undefined {
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
