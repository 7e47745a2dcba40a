/** What each state of the example flows listens for: closed phrase sets where the answer is one of a few. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { flowDomain, listenContext } from '../../../src/call/listen-context.ts';
import { checkFlowText, type FlowFile } from '../../../src/flow/index.ts';
import { BUILTIN_INTENTS } from '../../../src/nlu/builtin-intents.ts';

function flowOf(id: string): FlowFile {
  const result = checkFlowText(readFileSync(new URL(`../../../flows/${id}.json`, import.meta.url), 'utf8'));
  assert.ok(result.ok);
  return result.flow;
}

const pizza = flowOf('pizza');

test('a state handling the flow’s own intents is open: the model interprets paraphrases', () => {
  const greet = listenContext(pizza, 'greet');
  assert.equal(greet.kind, 'open');
  assert.equal(greet.numbers, false);
  for (const text of [...pizza.intents!['order']!.examples, ...pizza.intents!['operator']!.examples])
    assert.ok(greet.phrases.includes(text), text);
  assert.ok(greet.phrases.includes('say that again'), 'repeat works in every waiting state');
  assert.ok(!greet.phrases.includes('nope'), 'no is not handled here');
});

test('collecting a value of the flow’s entity is closed: its values and synonyms, plus global intents', () => {
  const size = listenContext(pizza, 'size');
  assert.equal(size.kind, 'closed');
  for (const text of ['small', 'personal', 'medium', 'regular', 'large', 'family size', 'operator'])
    assert.ok(size.phrases.includes(text), text);
  assert.ok(!size.phrases.includes("i'd like a pizza"), 'order is not handled while collecting the size');
});

test('numbers, yes/no read-backs and free-form dates listen the right way', () => {
  const count = listenContext(pizza, 'count');
  assert.deepEqual([count.kind, count.numbers], ['closed', true]);
  const confirm = listenContext(pizza, 'confirm');
  assert.equal(confirm.kind, 'closed', 'yes and no are short lists');
  assert.ok(confirm.phrases.includes('yes') && confirm.phrases.includes('no'));

  const appointment = flowOf('appointment');
  const day = listenContext(appointment, 'day');
  assert.deepEqual([day.kind, day.numbers], ['open', true]);
  for (const text of ['next tuesday', 'tomorrow', 'march third', 'the twenty first of june'])
    assert.ok(day.phrases.includes(text), `the date search knows "${text}"`);
  const time = listenContext(appointment, 'time');
  for (const text of ['half past two', 'two in the afternoon', 'quarter to nine', 'noon'])
    assert.ok(time.phrases.includes(text), `the time search knows "${text}"`);
  assert.ok(!day.phrases.includes('half past two'), 'a date question does not listen for times');
  const readBack = listenContext(appointment, 'day', true);
  assert.equal(readBack.kind, 'closed');
  assert.deepEqual(
    new Set(readBack.phrases),
    new Set([...BUILTIN_INTENTS.repeat, ...BUILTIN_INTENTS.yes, ...BUILTIN_INTENTS.no]),
  );
});

test('the domain is every phrase of the flow, computed once per flow', () => {
  const domain = flowDomain(pizza);
  assert.equal(listenContext(pizza, 'greet').domain, domain);
  assert.equal(listenContext(pizza, 'size').domain, domain);
  for (const text of ['pizza please', 'family size', 'nevermind', 'yes please'])
    assert.ok(domain.includes(text), text);
  assert.equal(new Set(domain).size, domain.length);
});
