import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  CONDITION_LIMITS,
  conditionSlots,
  evaluateCondition,
  formatCondition,
  parseCondition,
  type CompareOp,
  type Condition,
  type Literal,
  type Operand,
  type ParsedCondition,
} from '../../../src/flow/conditions.ts';

function parsed(source: string): ParsedCondition {
  const result = parseCondition(source);
  assert.ok(result.ok, `${source}: ${result.ok ? '' : `${result.offset}: ${result.message}`}`);
  return result.value;
}

function evaluate(source: string, slots: Record<string, string>): boolean {
  return evaluateCondition(parsed(source).condition, slots);
}

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

// ---------------------------------------------------------------------------------------------------------------
// Properties

const SLOT_NAMES = ['a', 'b', 'size', 'count', '_x', 'constructor'] as const;
const slotName = fc.constantFrom(...SLOT_NAMES);
const slotValue = fc.oneof(
  fc.constantFrom('', '0', '07', '7', '-2', '3.5', ' 4 ', 'large', 'true', 'abc', '1e3', '.5', '1.'),
  fc.string({ maxLength: 6 }),
);
const slotMap = fc.dictionary(slotName, slotValue);

const numberValue = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => n / 1000 + 0),
);
const literal: fc.Arbitrary<Literal> = fc.oneof(
  fc.string({ maxLength: 6 }).map((value) => ({ kind: 'string' as const, value })),
  numberValue.map((value) => ({ kind: 'number' as const, value })),
  fc.boolean().map((value) => ({ kind: 'boolean' as const, value })),
);
const slotOperand: fc.Arbitrary<Operand> = slotName.map((name) => ({ kind: 'slot' as const, name }));
const operand = fc.oneof(slotOperand, literal);
const numericOperand = fc.oneof(
  slotOperand,
  numberValue.map((value) => ({ kind: 'number' as const, value })),
);

// deepEqual compares prototypes, and parsed conditions are plain objects.
const NO_NULL_PROTO = { noNullPrototype: true } as const;
const leaf: fc.Arbitrary<Condition> = fc.oneof(
  fc.boolean().map((value) => ({ kind: 'constant' as const, value })),
  slotName.map((slot) => ({ kind: 'present' as const, slot })),
  fc.record(
    {
      kind: fc.constant('compare' as const),
      op: fc.constantFrom<CompareOp>('==', '!='),
      left: operand,
      right: operand,
    },
    NO_NULL_PROTO,
  ),
  fc.record(
    {
      kind: fc.constant('compare' as const),
      op: fc.constantFrom<CompareOp>('<', '<=', '>', '>='),
      left: numericOperand,
      right: numericOperand,
    },
    NO_NULL_PROTO,
  ),
  fc.record(
    {
      kind: fc.constant('in' as const),
      negated: fc.boolean(),
      value: operand,
      list: fc.array(literal, { maxLength: 3 }),
    },
    NO_NULL_PROTO,
  ),
);

const { condition: conditionArb } = fc.letrec<{ condition: Condition }>((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    tie('condition').map((condition) => ({ kind: 'not' as const, condition })),
    fc
      .tuple(
        fc.constantFrom('and' as const, 'or' as const),
        fc.array(tie('condition'), { minLength: 2, maxLength: 3 }),
      )
      .map(([kind, conditions]) => ({ kind, conditions })),
  ),
}));

/** Generated conditions that stay within the parser's limits once printed. */
const printable = conditionArb
  .map((condition) => ({ condition, source: formatCondition(condition) }))
  .filter(({ source }) => source.length <= CONDITION_LIMITS.maxLength && parseCondition(source).ok);

const TOKENS = [
  '(',
  ')',
  '!',
  'not',
  '&&',
  '||',
  'and',
  'or',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'in',
  '[',
  ']',
  ',',
  'a',
  'size',
  '"x"',
  "'y'",
  '7',
  '-2',
  '3.5',
  'true',
  'false',
  '=',
  '&',
  '"',
  "'",
  '\\',
  '#',
  ' ',
  '.',
];
const tokenSoup = fc
  .tuple(fc.array(fc.constantFrom(...TOKENS), { maxLength: 24 }), fc.constantFrom(' ', ''))
  .map(([parts, sep]) => parts.join(sep));

test('property: parsing never throws and errors point inside the source', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 600 }), tokenSoup),
      (source) => {
        const result = parseCondition(source);
        if (result.ok) return;
        assert.ok(result.message.length > 0);
        assert.ok(
          result.offset >= 0 && result.offset <= source.length,
          `offset ${result.offset} in ${source}`,
        );
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: evaluation never throws for parsed conditions and any slot map', () => {
  let parsedCount = 0;
  fc.assert(
    fc.property(
      fc.oneof(
        tokenSoup,
        printable.map((p) => p.source),
      ),
      slotMap,
      (source, slots) => {
        const result = parseCondition(source);
        if (!result.ok) return;
        parsedCount++;
        assert.equal(typeof evaluateCondition(result.value.condition, slots), 'boolean');
      },
    ),
    { numRuns: 1000 },
  );
  assert.ok(parsedCount > 100, `only ${parsedCount} sources parsed`);
});

test('property: evaluation never throws on arbitrary JSON posing as a condition', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.anything(), (condition, slots) => {
      const value = evaluateCondition(condition as Condition, slots as Record<string, string>);
      assert.equal(typeof value, 'boolean');
      assert.ok(Array.isArray(conditionSlots(condition as Condition)));
    }),
  );
});

test('property: printing then parsing gives back the same condition and slots', () => {
  fc.assert(
    fc.property(printable, ({ condition, source }) => {
      const result = parsed(source);
      assert.deepEqual(result.condition, condition);
      assert.deepEqual(result.slots, conditionSlots(condition));
      assert.deepEqual(JSON.parse(JSON.stringify(condition)), condition);
    }),
    { numRuns: 500 },
  );
});

test('property: !(c) and not (c) evaluate to the negation of c', () => {
  fc.assert(
    fc.property(printable, slotMap, ({ source }, slots) => {
      const value = evaluate(source, slots);
      assert.equal(evaluate(`!(${source})`, slots), !value);
      assert.equal(evaluate(`not (${source})`, slots), !value);
    }),
    { numRuns: 500 },
  );
});

test('property: != and not in are the negations of == and in', () => {
  fc.assert(
    fc.property(
      operand,
      operand,
      fc.array(literal, { maxLength: 4 }),
      slotMap,
      (left, right, list, slots) => {
        const eq: Condition = { kind: 'compare', op: '==', left, right };
        const ne: Condition = { kind: 'compare', op: '!=', left, right };
        assert.equal(evaluateCondition(ne, slots), !evaluateCondition(eq, slots));
        const inList: Condition = { kind: 'in', negated: false, value: left, list };
        const notIn: Condition = { kind: 'in', negated: true, value: left, list };
        assert.equal(evaluateCondition(notIn, slots), !evaluateCondition(inList, slots));
        // Membership is == against some item.
        const anyEqual = list.some((item) =>
          evaluateCondition({ kind: 'compare', op: '==', left, right: item }, slots),
        );
        assert.equal(evaluateCondition(inList, slots), anyEqual);
      },
    ),
  );
});

/** An independent model of how a slot's text reads as a number. */
function modelNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

test('property: slot against number literal matches a numeric model; against quoted text, exact text', () => {
  const value = fc.oneof(slotValue, numberValue.map(String), fc.string({ maxLength: 8 }));
  fc.assert(
    fc.property(value, numberValue, fc.string({ maxLength: 6 }), (text, n, quoted) => {
      const slots = { s: text };
      const asNumber = modelNumber(text);
      const num = (op: CompareOp): boolean =>
        evaluateCondition(
          { kind: 'compare', op, left: { kind: 'slot', name: 's' }, right: { kind: 'number', value: n } },
          slots,
        );
      assert.equal(num('=='), asNumber === n);
      assert.equal(num('<'), asNumber !== undefined && asNumber < n);
      assert.equal(num('<='), asNumber !== undefined && asNumber <= n);
      assert.equal(num('>'), asNumber !== undefined && asNumber > n);
      assert.equal(num('>='), asNumber !== undefined && asNumber >= n);
      const str = evaluateCondition(
        {
          kind: 'compare',
          op: '==',
          left: { kind: 'slot', name: 's' },
          right: { kind: 'string', value: quoted },
        },
        slots,
      );
      assert.equal(str, text === quoted);
      assert.equal(evaluateCondition({ kind: 'present', slot: 's' }, slots), text !== '');
      assert.equal(evaluateCondition({ kind: 'present', slot: 's' }, {}), false);
    }),
    { numRuns: 500 },
  );
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
