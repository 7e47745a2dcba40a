/** Evaluating conditions: the documented truth table, absent slots, malformed input, and dates and times. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  conditionSlots,
  evaluateCondition,
  parseCondition,
  type Condition,
} from '../../../src/flow/conditions.ts';
import { evaluate, parsed } from './conditions-helpers.ts';

const SLOTS: Record<string, string> = {
  size: 'large',
  count: '3',
  seven: '7',
  pad: '07',
  neg: '-2',
  dec: '3.50',
  spaced: ' 4 ',
  word: 'abc',
  hex: '0x10',
  sci: '1e3',
  empty: '',
  blank: '  ',
  yes: 'true',
  quoted: 'say "hi"',
  apostrophe: "it's",
  backslash: 'a\\b',
};

const TRUTH: [source: string, expected: boolean][] = [
  // == and != on text
  ['size == "large"', true],
  ['size == "Large"', false],
  ["size == 'large'", true],
  ['size != "large"', false],
  ['size != "small"', true],
  ['"large" == size', true],
  // == on numbers: compared by value when neither side is quoted
  ['pad == 7', true],
  ['pad == 7.0', true],
  ['seven == pad', true],
  ['dec == 3.5', true],
  ['spaced == 4', true],
  ['neg == -2', true],
  ['pad != 7', false],
  ['pad == "7"', false],
  ['pad == "07"', true],
  ['hex == 16', false],
  ['sci == 1000', false],
  ['sci == "1e3"', true],
  ['word == 0', false],
  ['yes == true', true],
  ['size == true', false],
  // ordering is numeric only
  ['count > 2', true],
  ['count > 3', false],
  ['count >= 3', true],
  ['count < 3', false],
  ['count <= 3', true],
  ['count < 4', true],
  ['neg < 0', true],
  ['neg < -1', true],
  ['neg > -3', true],
  ['dec > 3.4', true],
  ['dec <= 3.5', true],
  ['pad > count', true],
  ['word > 2', false],
  ['word < 2', false],
  ['word <= 2', false],
  ['word >= 2', false],
  ['empty >= 0', false],
  ['empty <= 0', false],
  // absent slots read as ""
  ['missing > 2', false],
  ['missing < 2', false],
  ['!(missing > 2)', true],
  ['missing == ""', true],
  ['missing != ""', false],
  ['missing == empty', true],
  ['missing == 0', false],
  ['missing != 0', true],
  // a bare slot means "has a non-empty value"
  ['size', true],
  ['empty', false],
  ['blank', true],
  ['missing', false],
  ['!missing', true],
  ['!size', false],
  ['not size', false],
  ['not not size', true],
  ['!!size', true],
  ['true', true],
  ['false', false],
  ['!false', true],
  // in / not in
  ['size in ["small", "large"]', true],
  ['size in ["small", "medium"]', false],
  ["size in ['small', 'large']", true],
  ['size not in ["small"]', true],
  ['size not in ["small", "large"]', false],
  ['pad in [1, 7]', true],
  ['pad in ["7"]', false],
  ['pad in ["07"]', true],
  ['yes in [false, true]', true],
  ['missing in [""]', true],
  ['missing not in ["a"]', true],
  ['size in []', false],
  ['size not in []', true],
  // && || and the word forms
  ['size && count', true],
  ['size && missing', false],
  ['missing || size', true],
  ['missing || empty', false],
  ['size and count > 2', true],
  ['missing or count == 3', true],
  ['missing and size', false],
  // precedence: each of these gives a different answer under the wrong grouping
  ['missing && size || count', true],
  ['count || size && missing', true],
  ['size || missing && empty', true],
  ['(size || missing) && empty', false],
  ['!size && missing', false],
  ['!size || size', true],
  ['!(size && missing)', true],
  ['not size or size', true],
  ['not (size or size)', false],
  ['count == 3 && size == "small" || word', true],
  ['count == 3 && (size == "small" || empty)', false],
  // whitespace
  ['  size=="large"&&count>=2  ', true],
  ['size\n==\t"large"', true],
  ['( size )', true],
  ['size in["small","large"]', true],
  // escapes
  ['quoted == "say \\"hi\\""', true],
  ['quoted == \'say "hi"\'', true],
  ["apostrophe == 'it\\'s'", true],
  ['apostrophe == "it\'s"', true],
  ['backslash == "a\\\\b"', true],
  ['backslash == "ab"', false],
];

test('conditions evaluate as documented against a table of slots', () => {
  for (const [source, expected] of TRUTH) {
    assert.equal(evaluate(source, SLOTS), expected, source);
  }
});

test('a slot named like an Object property is absent unless set', () => {
  assert.equal(evaluate('constructor', {}), false);
  assert.equal(evaluate('toString == ""', {}), true);
  assert.equal(evaluate('constructor == "x"', { constructor: 'x' }), true);
  const inherited = Object.create({ x: 'inherited' }) as Record<string, string>;
  assert.equal(evaluate('x == ""', inherited), true);
});

test('evaluation is total on malformed ASTs and slot maps', () => {
  const bogus = (value: unknown): Condition => value as Condition;
  assert.equal(evaluateCondition(bogus({ kind: 'bogus' }), {}), false);
  assert.equal(evaluateCondition(bogus(null), {}), false);
  assert.equal(evaluateCondition(bogus({ kind: 'and', conditions: 'nope' }), {}), false);
  assert.equal(
    evaluateCondition(bogus({ kind: 'in', value: { kind: 'slot', name: 'x' }, list: null }), {}),
    false,
  );
  assert.equal(
    evaluateCondition(parsed('x == "1"').condition, bogus(null) as unknown as Record<string, string>),
    false,
  );
  assert.equal(
    evaluateCondition(parsed('x').condition, { x: 5 } as unknown as Record<string, string>),
    false,
  );
  // A hand-built chain far deeper than the parser allows must not overflow the stack.
  let deep: Condition = { kind: 'constant', value: true };
  for (let i = 0; i < 100_000; i++) deep = { kind: 'not', condition: deep };
  assert.equal(typeof evaluateCondition(deep, {}), 'boolean');
  assert.equal(Array.isArray(conditionSlots(deep)), true);
});

test('dates and times order as their canonical text; other text still has no order', () => {
  const slots = { day: '2026-12-01', other: '2026-11-30', at: '14:30', word: 'noon' };
  const holds = (source: string): boolean => {
    const parsed = parseCondition(source);
    assert.ok(parsed.ok, source);
    return evaluateCondition(parsed.value.condition, slots);
  };
  assert.equal(holds('at >= "09:00" && at < "17:00"'), true);
  assert.equal(holds('at < "09:00"'), false);
  assert.equal(holds('day > other'), true, 'slot against slot');
  assert.equal(holds('day <= "2026-11-30"'), false);
  assert.equal(holds('at < "2026-12-01"'), false, 'a time and a date do not order');
  assert.equal(holds('word < "17:00"'), false);
  const bad = parseCondition('at < "five"');
  assert.equal(bad.ok, false, 'a literal that is no number, date or time is still an error');
});
