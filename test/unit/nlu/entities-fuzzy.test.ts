/**
 * Custom entities with `fuzzy`: words a speech engine got slightly wrong still find their value, within a
 * bound that grows with the word's length, and common words never do.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { editDistance, fuzzyBound, fuzzyWordCost } from '../../../src/nlu/entities/custom.ts';
import { extractCustom, type EntityValues } from '../../../src/nlu/index.ts';

const sizes: EntityValues = {
  small: [],
  medium: ['regular'],
  large: ['big', 'family size'],
  'extra large': ['huge'],
};
const pizzas: EntityValues = {
  pepperoni: [],
  margherita: [],
  hawaiian: [],
  'meat lovers': [],
  vegetarian: ['veggie'],
  cheeseburger: [],
  'buffalo chicken': [],
  pickup: [],
};

function fuzzy(values: EntityValues, table: readonly [string, string | null][]): void {
  for (const [said, expected] of table) {
    assert.equal(extractCustom(values, said, { fuzzy: true }), expected, JSON.stringify(said));
  }
}

test('fuzzy bound: none up to 4 letters, 1 edit from 5 to 7, 2 from 8; 1 for 4 letters in a phrase', () => {
  const table: [number, boolean, number][] = [
    [1, false, 0],
    [3, false, 0],
    [4, false, 0],
    [4, true, 1],
    [5, false, 1],
    [7, false, 1],
    [8, false, 2],
    [20, false, 2],
  ];
  for (const [length, inPhrase, bound] of table) {
    assert.equal(fuzzyBound(length, inPhrase), bound, `${length} ${inPhrase}`);
  }
});

test('editDistance: Damerau-Levenshtein with adjacent transpositions, capped at max + 1', () => {
  const table: [string, string, number, number][] = [
    ['large', 'large', 2, 0],
    ['lagre', 'large', 2, 1],
    ['lage', 'large', 2, 1],
    ['kitten', 'sitting', 3, 3],
    ['margarita', 'margherita', 2, 2],
    ['margarit', 'margherita', 2, 3],
    ['abc', 'abcdef', 1, 2],
    ['', 'ab', 5, 2],
    ['x'.repeat(10_000), 'y', 2, 3],
  ];
  for (const [a, b, max, d] of table) assert.equal(editDistance(a, b, max), d, `${a.slice(0, 12)} ${b}`);
});

test('fuzzy: a word within its bound matches, one edit further does not', () => {
  fuzzy(sizes, [
    // large (5 letters): 1 edit.
    ['lage please', 'large'],
    ['a larg one', 'large'],
    ['lagre', 'large'],
    ['larger', 'large'],
    ['lar', null],
    ['lxrgx', null],
    // regular (7 letters): 1 edit.
    ['reguler', 'medium'],
    ['regualr', 'medium'],
    ['reglur', null],
    ['medum', 'medium'],
    ['mdiun', null],
    // small (5 letters): "smaller" is 2 edits away.
    ['smal', 'small'],
    ['smaller', null],
    // huge (4 letters): exact only, apart from a plural.
    ['hug', null],
    ['hugh', null],
    ['huges', 'extra large'],
  ]);
  fuzzy(pizzas, [
    // margherita (10 letters): 2 edits.
    ['a margarita please', 'margherita'],
    ['margarit', null],
    ['margaret', null],
    // hawaiian (8 letters): 2 edits.
    ['hawaiin', 'hawaiian'],
    ['hawian', 'hawaiian'],
    ['hawn', null],
    ['peperoni', 'pepperoni'],
    ['pepperony', 'pepperoni'],
    ['vegetarain', 'vegetarian'],
    ['vegetable', null],
    ['veggies', 'vegetarian'],
  ]);
});

test('fuzzy: phrases match word by word, and words run together or split apart', () => {
  fuzzy(sizes, [
    ['extra lage', 'extra large'],
    ['family sizes', 'large'],
    ['family sighs', null],
    ['extra charge', null],
  ]);
  fuzzy(pizzas, [
    ['meat lover', 'meat lovers'],
    // In a phrase a 4-letter word may be 1 edit off: the other words vouch for it.
    ['meet lovers', 'meat lovers'],
    ['meet lover', 'meat lovers'],
    ['meet lever', null],
    ['mate lovers', null],
    ['bufalo chicken', 'buffalo chicken'],
    ['buffalo chickens', 'buffalo chicken'],
    // Split or run together: the space is one edit of the bound.
    ['pepper oni', 'pepperoni'],
    ['pepper only', null],
    ['cheese burger', 'cheeseburger'],
    ['two cheese burgers', 'cheeseburger'],
    ['pick up', 'pickup'],
    ['buffalochicken', 'buffalo chicken'],
  ]);
  // Pieces of one letter are never joined, nor wholes under 6 letters.
  fuzzy({ apart: [], format: [] }, [
    ['a part', null],
    ['for mat', 'format'],
  ]);
});

test('fuzzy: common words, number words and other short words only ever match exactly', () => {
  fuzzy({ pleased: [], thinks: [], wand: [], steven: [], own: [], now: [], four: [] }, [
    // Each of these is 1 edit (or a plural) away, and would match but for being a common word.
    ['please', null],
    ['i think', null],
    ['seven', null],
    ['fourth', null],
    ['stevens', 'steven'],
    ['i want it', null],
    // Words of 3 letters or fewer.
    ['one', null],
    ['no', null],
    ['for', null],
  ]);
  // The first letter must agree: "charge" and "barge" are not "large", nor "mall" "small".
  fuzzy(sizes, [
    ['charge', null],
    ['barge', null],
    ['i am at the mall', null],
    ['what did you say', null],
    ['', null],
  ]);
  assert.equal(fuzzyWordCost('thanks', 'thank'), Infinity);
  assert.equal(fuzzyWordCost('cokes', 'coke'), 1);
  assert.equal(fuzzyWordCost('fries', 'fry'), Infinity);
  assert.equal(fuzzyWordCost('fry', 'fries'), 1);
});

test('fuzzy: exact matches come first, and a tie is null rather than a guess', () => {
  fuzzy(sizes, [
    // An exact match is never overruled by an approximate one.
    ['small or lage', 'small'],
    // Nor is an exact tie.
    ['small or big, or larg', null],
    ['smal or lage', null],
  ]);
  // Two values one edit away each.
  fuzzy({ stripe: [], strike: [] }, [
    ['strie', null],
    ['stripes', 'stripe'],
  ]);
  // The longest phrase wins, then the fewest edits.
  fuzzy({ large: [], 'extra large': [], lager: [] }, [
    ['extra lage', 'extra large'],
    ['lagr', 'lager'],
  ]);
});

test('fuzzy is off unless asked for, so the two-argument call is unchanged', () => {
  for (const said of ['lage', 'margarita', 'pepper oni', 'meet lovers']) {
    assert.equal(extractCustom({ ...sizes, ...pizzas }, said), null, said);
    assert.equal(extractCustom({ ...sizes, ...pizzas }, said, { fuzzy: false }), null, said);
    assert.notEqual(extractCustom({ ...sizes, ...pizzas }, said, { fuzzy: true }), null, said);
  }
});

test('fuzzy looks at the first 200 words only and stays fast on 10 kB of text', () => {
  const filler = 'blah '.repeat(2000);
  fuzzy(pizzas, [
    [`${filler}margarita`, null],
    [`${filler}margherita`, 'margherita'],
    [`${'blah '.repeat(150)}margarita`, 'margherita'],
  ]);
  const many: Record<string, string[]> = {};
  const stems = ['pepperoni', 'margherita', 'hawaiian', 'mushroom', 'sausage', 'pineapple', 'anchovies'];
  for (let k = 0; k < 300; k++) many[`${stems[k % 7]} ${stems[(k * 3) % 7]} ${k}`] = [`special ${k}`];
  const long = Array.from({ length: 2000 }, (_, k) => ['peperony', 'margarite', 'pineaple', 'i'][k % 4]).join(
    ' ',
  );
  assert.ok(long.length > 10_000);
  const started = performance.now();
  extractCustom(many, long, { fuzzy: true });
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1000, `${elapsed} ms`);
});
