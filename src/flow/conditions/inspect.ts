/** Reading a condition back: the slots and `call.` names it uses, and its source text. */
import { CALL_PREFIX } from '../call-info.ts';
import { MAX_EVAL_DEPTH } from './evaluate.ts';
import type { Condition, Operand } from './types.ts';

/** Distinct slot names a condition reads, in order of appearance; `call.` names are not slots. */
export function conditionSlots(condition: Condition): string[] {
  return operandNames(condition, 'slot');
}

/** Distinct `call.` names (without the prefix) a condition reads, in order of appearance. */
export function conditionCalls(condition: Condition): string[] {
  return operandNames(condition, 'callValue');
}

function operandNames(condition: Condition, kind: 'slot' | 'callValue'): string[] {
  const seen = new Set<string>();
  const operand = (o: Operand): void => {
    if (typeof o === 'object' && o !== null && o.kind === kind && typeof o.name === 'string')
      seen.add(o.name);
  };
  const visit = (c: Condition, depth: number): void => {
    if (depth > MAX_EVAL_DEPTH || typeof c !== 'object' || c === null) return;
    switch (c.kind) {
      case 'present':
        if (kind === 'slot' && typeof c.slot === 'string') seen.add(c.slot);
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
    case 'callValue':
      return `${CALL_PREFIX}${o.name}`;
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
