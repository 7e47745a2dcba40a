import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BUILTIN_INTENTS, ExampleMatcher, normalizeUtterance } from '../../../src/nlu/index.ts';

const flowIntents = {
  order_pizza: { examples: ["I'd like to order a pizza", 'can I get a large pepperoni'] },
  talk_to_human: { examples: ['agent please', 'let me talk to a person'] },
};

test('an example matches whatever its case, punctuation and spacing', () => {
  const matcher = new ExampleMatcher(flowIntents);
  for (const said of [
    "I'd like to order a pizza",
    'id like to order a pizza',
    '  I’D LIKE TO ORDER A PIZZA!! ',
  ]) {
    assert.deepEqual(matcher.match(said), { intent: 'order_pizza', confidence: 1 }, said);
  }
  assert.deepEqual(matcher.match('Agent, please.'), { intent: 'talk_to_human', confidence: 1 });
});

test('an utterance that is no example is null, as is an empty one', () => {
  const matcher = new ExampleMatcher(flowIntents);
  assert.equal(matcher.match('I would like to order a pizza'), null);
  assert.equal(matcher.match('pizza'), null);
  assert.equal(matcher.match(''), null);
  assert.equal(matcher.match('?!'), null);
});

test('built-in intents are present by default and listed after the flow intents', () => {
  const matcher = new ExampleMatcher(flowIntents);
  assert.deepEqual(matcher.intents, ['order_pizza', 'talk_to_human', 'yes', 'no', 'repeat', 'cancel']);
  assert.equal(matcher.match('Yeah.')?.intent, 'yes');
  assert.equal(matcher.match("That's right")?.intent, 'yes');
  assert.equal(matcher.match('Nope')?.intent, 'no');
  assert.equal(matcher.match("no, that's wrong")?.intent, 'no');
  assert.equal(matcher.match('Say that again?')?.intent, 'repeat');
  assert.equal(matcher.match('Pardon?')?.intent, 'repeat');
  assert.equal(matcher.match('Never mind')?.intent, 'cancel');
});

test('builtins: false leaves only the flow intents', () => {
  const matcher = new ExampleMatcher(flowIntents, { builtins: false });
  assert.deepEqual(matcher.intents, ['order_pizza', 'talk_to_human']);
  assert.equal(matcher.match('yes'), null);
});

test('a flow intent named like a built-in replaces its examples', () => {
  const matcher = new ExampleMatcher({ yes: { examples: ['yes please'] } });
  assert.deepEqual(matcher.intents, ['yes', 'no', 'repeat', 'cancel']);
  assert.equal(matcher.match('yes please')?.intent, 'yes');
  assert.equal(matcher.match('yeah'), null);
  assert.equal(matcher.match('nope')?.intent, 'no');
});

test('an example under two intents goes to the first declared; flow examples beat built-ins', () => {
  const matcher = new ExampleMatcher({
    first: { examples: ['same words'] },
    second: { examples: ['Same words!', 'other words'] },
    stop_order: { examples: ['stop'] },
  });
  assert.equal(matcher.match('same words')?.intent, 'first');
  assert.equal(matcher.match('other words')?.intent, 'second');
  assert.equal(matcher.match('stop')?.intent, 'stop_order');
  assert.equal(matcher.match('cancel')?.intent, 'cancel');
});

test('the built-in intent examples are plentiful and never shared between two intents', () => {
  const owner = new Map<string, string>();
  for (const [intent, examples] of Object.entries(BUILTIN_INTENTS)) {
    assert.ok(examples.length >= 10, intent);
    for (const example of examples) {
      const key = normalizeUtterance(example);
      assert.notEqual(key, '');
      const previous = owner.get(key);
      assert.ok(previous === undefined || previous === intent, `"${example}" in ${previous} and ${intent}`);
      owner.set(key, intent);
    }
  }
});

test('an intent named like an Object.prototype member is an ordinary intent', () => {
  const matcher = new ExampleMatcher({ constructor: { examples: ['build it'] } }, { builtins: false });
  assert.equal(matcher.match('build it')?.intent, 'constructor');
  assert.equal(matcher.match('constructor'), null);
});
