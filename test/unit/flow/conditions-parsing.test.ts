/** Parsing and printing conditions: the AST, the slots read, error messages with offsets, and the limits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONDITION_LIMITS,
  conditionSlots,
  formatCondition,
  parseCondition,
  type Condition,
} from '../../../src/flow/conditions.ts';
import { evaluate, parsed } from './conditions-helpers.ts';

test('the AST groups by precedence and is plain JSON', () => {
  const slot = (name: string): Condition => ({ kind: 'present', slot: name });
  assert.deepEqual(parsed('a || b && c').condition, {
    kind: 'or',
    conditions: [slot('a'), { kind: 'and', conditions: [slot('b'), slot('c')] }],
  });
  assert.deepEqual(parsed('a && b && c').condition, {
    kind: 'and',
    conditions: [slot('a'), slot('b'), slot('c')],
  });
  assert.deepEqual(parsed('(a && b) && c').condition, {
    kind: 'and',
    conditions: [{ kind: 'and', conditions: [slot('a'), slot('b')] }, slot('c')],
  });
  assert.deepEqual(parsed('!a && b').condition, {
    kind: 'and',
    conditions: [{ kind: 'not', condition: slot('a') }, slot('b')],
  });
  assert.deepEqual(parsed('n >= -1.5').condition, {
    kind: 'compare',
    op: '>=',
    left: { kind: 'slot', name: 'n' },
    right: { kind: 'number', value: -1.5 },
  });
  assert.deepEqual(parsed('s not in ["a", 2, true]').condition, {
    kind: 'in',
    negated: true,
    value: { kind: 'slot', name: 's' },
    list: [
      { kind: 'string', value: 'a' },
      { kind: 'number', value: 2 },
      { kind: 'boolean', value: true },
    ],
  });
  assert.deepEqual(parsed('x == -0').condition, {
    kind: 'compare',
    op: '==',
    left: { kind: 'slot', name: 'x' },
    right: { kind: 'number', value: 0 },
  });
  const condition = parsed('size == "large" && (count >= 2 || !vip) && tier not in ["a"]').condition;
  assert.deepEqual(JSON.parse(JSON.stringify(condition)), condition);
});

test('slots are listed once each, in order of appearance, without literals', () => {
  assert.deepEqual(parsed('b == a && a || c in ["x", "b"] && !d || "e" == f').slots, [
    'b',
    'a',
    'c',
    'd',
    'f',
  ]);
  assert.deepEqual(parsed('x == "y"').slots, ['x']);
  assert.deepEqual(parsed('true').slots, []);
  assert.deepEqual(conditionSlots(parsed('z > 1 && y').condition), ['z', 'y']);
});

test('a word operator needs a word boundary, so slot names may start with one', () => {
  assert.deepEqual(parsed('android || order && notice && index && truely').slots, [
    'android',
    'order',
    'notice',
    'index',
    'truely',
  ]);
});

const ERRORS: [source: string, offset: number, message: string | RegExp][] = [
  ['=', 0, 'unknown operator "=" (did you mean "=="?)'],
  ['size = "large"', 5, 'unknown operator "=" (did you mean "=="?)'],
  ['size === "large"', 5, 'unknown operator "===" (did you mean "=="?)'],
  ['a !== 1', 2, 'unknown operator "!==" (did you mean "!="?)'],
  ['a <> 1', 2, 'unknown operator "<>" (did you mean "!="?)'],
  ['a => 1', 2, 'unknown operator "=>" (did you mean ">="?)'],
  ['a & b', 2, 'unknown operator "&" (did you mean "&&"?)'],
  ['a | b', 2, 'unknown operator "|" (did you mean "||"?)'],
  ['x ==', 4, 'expected a value after "==" but found end of condition'],
  ['x == && y', 5, 'expected a value after "==" but found "&&"'],
  ['x == 1 &&', 9, 'expected a condition after "&&" but found end of condition'],
  ['x or', 4, 'expected a condition after "or" but found end of condition'],
  ['&& x', 0, 'expected a condition but found "&&"'],
  ['', 0, 'condition is empty'],
  ['   ', 0, 'condition is empty'],
  ['(x', 2, 'expected ")" to close the "(" at offset 0 but found end of condition'],
  ['(x y', 3, 'expected an operator such as "==", "in" or "&&" after "x" but found "y"'],
  ['((x == 1) && y', 14, 'expected ")" to close the "(" at offset 0 but found end of condition'],
  ['x)', 1, 'unexpected ")" with no matching "("'],
  ['()', 1, 'expected a condition after "(" but found ")"'],
  ['x == "abc', 5, /^unclosed string starting at offset 5/],
  ["x == 'abc\\'", 5, /^unclosed string starting at offset 5/],
  ['x == "a\\n"', 7, 'unknown escape "\\n" in string (only \\", \\\' and \\\\ are allowed)'],
  ['x # 1', 2, 'unexpected character "#"'],
  [
    'x == \u201clarge\u201d',
    5,
    'unexpected character \u201c (U+201C, a curly quote): use straight quotes " or \'',
  ],
  [
    'method == "delivery\u201d',
    10,
    'unclosed string starting at offset 10: \u201d (U+201D, a curly quote) at offset 19 does not close it; use a straight "',
  ],
  ['x == 1.', 5, 'invalid number "1." (numbers are written like -12 or 3.5)'],
  ['x == 1.2.3', 5, 'invalid number "1.2.3" (numbers are written like -12 or 3.5)'],
  ['x == 2nd', 5, 'invalid number "2nd" (numbers are written like -12 or 3.5)'],
  ['x == -y', 5, /^expected a digit after "-"/],
  ['x == ' + '9'.repeat(400), 5, /^number 9+\.\.\. is too large$/],
  ['x y', 2, 'expected an operator such as "==", "in" or "&&" after "x" but found "y"'],
  ['x == 1 y', 7, 'expected "&&", "||" or end of condition but found "y"'],
  [
    'x == 1 AND y',
    7,
    'expected "&&", "||" or end of condition but found "AND" (operator words are lowercase: "and")',
  ],
  ['x == TRUE', 5, '"TRUE" cannot be a slot name; operator words are lowercase: "true"'],
  ['a < b < c', 6, 'comparisons cannot be chained: join them with "&&", e.g. a < b && b < c'],
  ['"large"', 0, /^string "large" on its own is not a condition/],
  ['x && 3', 5, /^number 3 on its own is not a condition/],
  ['x < "5"', 4, '"<" compares numbers but found string "5" (write 5 without quotes)'],
  ['x >= "five"', 5, '">=" compares numbers but found string "five"'],
  ['true > x', 0, '">" compares numbers but found "true"'],
  ['!x == 1', 0, /^"!" before a comparison is ambiguous: write !\(a == b\)/],
  ['not x in ["a"]', 0, /^"not" before a comparison is ambiguous: write not \(a == b\)/],
  ['x not "a"', 6, 'expected "in" after "not" but found string "a"'],
  ['x in "a"', 5, /^expected "\[" after "in" but found string "a"/],
  [
    'size in [small, medium]',
    9,
    /^list items must be quoted text, numbers, true or false, but found the bare word small/,
  ],
  ['x in ["a" "b"]', 10, 'expected "," or "]" in the list but found string "b"'],
  ['x in ["a",]', 10, 'expected a value after "," but found "]"'],
  ['x in ["a"', 9, 'expected "]" to close the list starting at offset 5 but found end of condition'],
];

test('malformed conditions report what was expected, what was found, and where', () => {
  for (const [source, offset, message] of ERRORS) {
    const result = parseCondition(source);
    assert.equal(result.ok, false, source);
    if (result.ok) continue;
    assert.equal(result.offset, offset, `${source}: ${result.message}`);
    if (typeof message === 'string') assert.equal(result.message, message, source);
    else assert.match(result.message, message, source);
  }
});

test('source length is limited to 500 characters', () => {
  const padded = (n: number): string => `x == "${'a'.repeat(n - 7)}"`;
  assert.equal(padded(500).length, 500);
  assert.equal(parseCondition(padded(500)).ok, true);
  assert.deepEqual(parseCondition(padded(501)), {
    ok: false,
    message: 'condition is too long: 501 characters, at most 500',
    offset: 500,
  });
  assert.equal(CONDITION_LIMITS.maxLength, 500);
});

test('nesting is limited to 32 levels of parentheses and "!", reported at the first level too many', () => {
  const parens = (n: number): string => `${'('.repeat(n)}x${')'.repeat(n)}`;
  assert.equal(parseCondition(parens(32)).ok, true);
  for (const source of [parens(33), parens(40), `${'('.repeat(40)}x`, '('.repeat(500)]) {
    const result = parseCondition(source);
    assert.equal(result.ok, false, source);
    if (!result.ok) {
      assert.equal(result.offset, 32);
      assert.match(result.message, /nested too deeply: at most 32 levels/);
    }
  }
  assert.equal(evaluate(`${'!'.repeat(32)}x`, { x: 'y' }), true);
  const bangs = parseCondition(`${'!'.repeat(33)}x`);
  assert.equal(bangs.ok ? -1 : bangs.offset, 32);
  const mixed = parseCondition(`${'!('.repeat(17)}x${')'.repeat(17)}`);
  assert.equal(mixed.ok ? -1 : mixed.offset, 32);
});

test('at most 64 operands, counting list items', () => {
  const names = (n: number): string => Array.from({ length: n }, (_, i) => `s${i}`).join('||');
  assert.equal(parsed(names(64)).slots.length, 64);
  const tooMany = names(65);
  const result = parseCondition(tooMany);
  assert.equal(result.ok, false);
  if (!result.ok) {
    assert.equal(result.offset, tooMany.lastIndexOf('s64'));
    assert.match(result.message, /at most 64/);
  }
  const list = (n: number): string => `x in [${Array.from({ length: n }, (_, i) => i).join(',')}]`;
  assert.equal(parseCondition(list(63)).ok, true);
  const longList = list(64);
  const listResult = parseCondition(longList);
  assert.equal(listResult.ok ? -1 : listResult.offset, longList.lastIndexOf('63'));
});

test('formatCondition prints the source syntax', () => {
  const cases: [string, string][] = [
    ['size=="large"&&count>=2', 'size == "large" && count >= 2'],
    ["a == 'it\\'s \"x\"'", 'a == "it\'s \\"x\\""'],
    ['not (a or b) and c', '!(a || b) && c'],
    ['!(a == 1)', '!(a == 1)'],
    ['(a || b) || c', '(a || b) || c'],
    ['a || b && c', 'a || b && c'],
    ['x not in [1, "b", false]', 'x not in [1, "b", false]'],
    [`x == ${'1'.padEnd(23, '0')}`, `x == ${'1'.padEnd(23, '0')}`],
    ['x == 0.0000001', 'x == 0.0000001'],
  ];
  for (const [source, expected] of cases) assert.equal(formatCondition(parsed(source).condition), expected);
});
