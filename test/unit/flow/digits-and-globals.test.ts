/**
 * Two ways a call could go wrong on what the caller meant, tested on flows/pharmacy.json's machine: a spoken digit
 * string of the wrong length (read back to the caller in the state's `invalidSay`), and a global intent the
 * model guessed from a paraphrase ("in person" as "a real person"), which must not take the caller away from the
 * state's question until they confirm it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createActor } from 'xstate';
import { listenContext } from '../../../src/call/listen-context.ts';
import {
  checkFlowText,
  compileFlow,
  type CallEvent,
  type Effect,
  type FlowFile,
} from '../../../src/flow/index.ts';
import { extractDigits } from '../../../src/nlu/entities/digits.ts';

function pharmacy(): FlowFile {
  const result = checkFlowText(
    readFileSync(new URL('../../../flows/pharmacy.json', import.meta.url), 'utf8'),
  );
  assert.ok(result.ok);
  return result.flow;
}

type Input = CallEvent extends infer E ? (E extends CallEvent ? Omit<E, 'at'> : never) : never;

/** Run the pharmacy machine to `state` by keys, then hand the test a way to send events and read effects. */
function callIn(flow: FlowFile, state: 'rx' | 'method') {
  const actor = createActor(compileFlow(flow).machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  let at = 1000;
  const send = (event: Input): void => {
    at += 100;
    actor.send({ ...event, at });
  };
  const said = (): string => {
    const say = [...effects].reverse().find((e) => e.type === 'say');
    return say?.type === 'say' ? say.text : '';
  };
  const played = (): void => {
    const say = [...effects].reverse().find((e) => e.type === 'say');
    if (say?.type === 'say') send({ type: 'played', mark: say.mark });
  };
  const speak = (text: string, intent: string | null, entities: Record<string, string> = {}): void =>
    send({ type: 'utterance', text, intent, confidence: intent === null ? 0 : 0.95, entities });
  const keys = (digits: string): void => {
    for (const digit of digits) send({ type: 'dtmf', digit });
  };
  send({ type: 'call.start', callId: 'CA1' });
  played();
  keys('1');
  played();
  if (state === 'method') {
    keys('1234567');
    played();
    keys('1');
    played();
  }
  const snapshot = () => actor.getSnapshot().context;
  assert.equal(snapshot().state, state);
  return { send, speak, keys, said, played, snapshot, effects };
}

test('a spoken digit string of the wrong length is refused, and invalidSay reads back what was heard', () => {
  const call = callIn(pharmacy(), 'rx');
  call.speak('one two three four five oh oh one oh', null, { digits: '123450010' });
  assert.equal(call.snapshot().state, 'rx');
  assert.equal(call.snapshot().slots.rx, undefined, 'the refused value is not kept');
  assert.match(call.said(), /^I heard 1, 2, 3, 4, 5, 0, 0, 1, 0\. A prescription number has seven digits\./);
  call.played();
  call.speak('one two three four five six seven', null, { digits: '1234567' });
  assert.match(call.said(), /^That was 1, 2, 3, 4, 5, 6, 7\. Is that right\?/);
});

test('too few keys before the end of entry are read back the same way; none at all is a no-match', () => {
  const flow = pharmacy();
  flow.states['rx']!.collect!.digits = { min: 7, max: 7, terminator: '#' };
  const call = callIn(flow, 'rx');
  call.keys('123#');
  assert.match(call.said(), /^I heard 1, 2, 3\. A prescription number has seven digits\./);
  call.played();
  call.keys('#');
  assert.match(call.said(), /^Sorry, I didn't understand that\./);
});

test('a paraphrase the model reads as a global intent asks first; no returns to the question', () => {
  const call = callIn(pharmacy(), 'method');
  call.speak('in person', 'operator');
  assert.equal(call.snapshot().state, 'method', 'not transferred on a guess');
  assert.equal(call.snapshot().checking, 'operator');
  assert.equal(call.said(), 'Do you want to speak to a pharmacist?');
  call.played();
  call.speak('no', 'no', { no: 'no' });
  assert.equal(call.snapshot().state, 'method');
  assert.equal(call.snapshot().checking, undefined);
  assert.match(call.said(), /^Would you like to pick it up/);
  assert.equal(call.snapshot().retries, 0, 'a declined guess is not the caller failing to answer');
  call.played();
  call.speak('pick up', null, { method: 'pickup' });
  assert.equal(call.snapshot().slots.method, 'pickup');
});

test('yes, the key 1, or the intent said again confirms the global intent and leaves the state', () => {
  for (const answer of ['yes', 'key', 'again'] as const) {
    const call = callIn(pharmacy(), 'method');
    call.speak("i'll stop by later today", 'cancel');
    assert.equal(call.said(), 'Do you want to stop your refill request?');
    if (answer === 'yes') call.speak('yes please', 'yes', { yes: 'yes' });
    else if (answer === 'key') call.keys('1');
    else call.speak('cancel it', 'cancel');
    assert.equal(call.snapshot().state, 'cancelled', answer);
  }
});

test('an exact example of a global intent needs no confirmation', () => {
  const call = callIn(pharmacy(), 'method');
  call.speak('Pharmacist!', 'operator');
  assert.equal(call.snapshot().state, 'pharmacist');
});

test('answering the question instead of the check goes on with the answer', () => {
  const call = callIn(pharmacy(), 'method');
  call.speak('in person', 'operator');
  call.speak('delivery', null, { method: 'delivery' });
  assert.equal(call.snapshot().state, 'zip');
  assert.equal(call.snapshot().checking, undefined);
});

test('silence after the check asks the state’s own question again', () => {
  const call = callIn(pharmacy(), 'method');
  call.speak('in person', 'operator');
  call.played();
  const timer = [...call.effects].reverse().find((e) => e.type === 'timer.start');
  assert.ok(timer?.type === 'timer.start');
  call.send({ type: 'timer', id: timer.id });
  assert.match(call.said(), /^Sorry, I didn't get anything\. Would you like to pick it up/);
  assert.equal(call.snapshot().checking, undefined);
});

test('without a confirm of its own, a global intent is checked with its first example', () => {
  const flow = pharmacy();
  delete flow.intents!['operator']!.confirm;
  const call = callIn(flow, 'method');
  call.speak('in person', 'operator');
  assert.equal(call.said(), 'Did you mean operator? Please say yes or no.');
});

test('a digit state listens for digits only, as many as it collects; the check adds yes and no', () => {
  const flow = pharmacy();
  const rx = listenContext(flow, 'rx');
  assert.deepEqual([rx.kind, rx.numbers, rx.digitCount], ['closed', 'digits', { min: 7, max: 7 }]);
  assert.ok(!rx.phrases.includes('yes'));
  const checking = listenContext(flow, 'method', false, true);
  assert.ok(checking.phrases.includes('yes') && checking.phrases.includes('no'));
  assert.ok(checking.phrases.includes('pick up'), 'the state’s own answers are still heard');
});

test('spoken digit runs read "oh" as zero and "double"/"triple" as repeats', () => {
  assert.equal(extractDigits('four oh one double five triple two'), '40155222');
  assert.equal(extractDigits('one two three four five six oh'), '1234560');
  assert.equal(extractDigits('oh, it is double seven'), '77');
});
