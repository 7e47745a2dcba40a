/** The example flows, driven turn by turn as text through the real language understanding and supervisor. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { TextCall } from '../../src/call/text-call.ts';
import { checkFlowText, compileFlow } from '../../src/flow/index.ts';
import { memoryLogger } from '../../src/observability/logger.ts';

function exampleFlow(id: string) {
  const result = checkFlowText(readFileSync(new URL(`../../flows/${id}.json`, import.meta.url), 'utf8'));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.findings));
  return compileFlow(result.flow);
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A text call on flows/<id>.json; the clock is fixed at noon on Wednesday 2026-11-25 (local time). */
function call(id: string) {
  const said: string[] = [];
  const ends: string[] = [];
  const { logger, records } = memoryLogger();
  const c = new TextCall({
    compiled: exampleFlow(id),
    logger,
    onSay: (text) => said.push(text),
    onEnd: (reason) => ends.push(reason),
    now: () => new Date(2026, 10, 25, 12, 0, 0).getTime(),
  });
  c.start();
  const turn = async (input: string) => {
    if (input.startsWith('#')) c.press(input.slice(1));
    else c.say(input);
    await settle();
    return said.at(-1) ?? '';
  };
  return { c, said, ends, records, turn };
}

test('pizza by voice: intent, custom entity by synonym, number with validation, yes, discount', async () => {
  const { c, said, ends, turn } = call('pizza');
  await settle();
  assert.match(said[0] ?? '', /^Thanks for calling Mario's/);
  assert.match(await turn("I'd like a pizza!"), /What size would you like/);
  assert.equal(c.state, 'size');
  assert.match(await turn('a family size one'), /^How many large pizzas\?/);
  assert.match(await turn('twelve'), /^We can deliver one to ten pizzas at a time\. How many large pizzas\?/);
  assert.match(await turn('four please'), /^That is 4 large\./);
  await turn('yes that is right');
  assert.deepEqual(said.slice(-2), [
    'Good news: orders of three or more get ten percent off.',
    'Your order is in and will be ready in twenty minutes. Goodbye.',
  ]);
  assert.deepEqual(c.slots, { size: 'large', count: '4' });
  assert.deepEqual(ends, ['the flow ended the call']);
});

test('pizza by keypad, and the global operator intent from the middle of a collect', async () => {
  const keys = call('pizza');
  await settle();
  await keys.turn('#1');
  await keys.turn('#2');
  assert.equal(keys.c.slots.size, 'medium', 'key 2 is a synonym of medium');
  await keys.turn('#2#');
  await keys.turn('#1');
  assert.equal(keys.said.at(-1), 'Your order is in and will be ready in twenty minutes. Goodbye.');

  const human = call('pizza');
  await settle();
  await human.turn('order');
  assert.equal(human.c.state, 'size');
  assert.match(await human.turn('Talk to a person.'), /^Please hold/);
  assert.equal(human.c.state, 'human');
});

test('appointment: a spoken date read back naturally, a time checked against opening hours', async () => {
  const { c, said, turn } = call('appointment');
  await settle();
  assert.match(said[0] ?? '', /Which day would you like/);
  assert.equal(
    await turn('next tuesday'),
    'Tuesday, December 1st, is that right? Say yes or press 1, or say no or press 2.',
  );
  assert.match(await turn('yes'), /^And at what time\?/);
  assert.match(await turn('at 7 pm'), /^Sorry, that is outside our opening hours\./);
  assert.equal(
    await turn('half past two in the afternoon'),
    'You are booked for Tuesday, December 1st at 2:30 PM. We will text you a reminder. Goodbye.',
  );
  assert.deepEqual(c.slots, { day: '2026-12-01', time: '14:30' });
});

test('appointment by keypad: the date as YYYYMMDD, no to the read-back asks again', async () => {
  const { c, turn } = call('appointment');
  await settle();
  await turn('#20261203');
  assert.equal(c.state, 'day');
  assert.match(await turn('#2'), /Which day would you like/);
  assert.equal(c.slots.day, undefined);
  assert.match(await turn('#20261204'), /^Friday, December 4th, is that right\?/);
  await turn('#1');
  assert.match(await turn('#0930'), /Friday, December 4th at 9:30 AM/);
});
