/** Property tests of conditions: parsing and evaluation never throw, printing round-trips, negations hold. */
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
} from '../../../src/flow/conditions.ts';
import { evaluate, parsed } from './conditions-helpers.ts';

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
