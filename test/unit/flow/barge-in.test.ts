/**
 * Barge-in as a decision of the call's machine: the caller starting to speak over a prompt (`speech.start`) stops
 * it only where the state allows speech to interrupt, and a key during a prompt that may not be interrupted is
 * taken in (journaled) and ignored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createActor } from 'xstate';
import {
  compileFlow,
  validateFlow,
  type CallEvent,
  type Effect,
  type FlowFile,
} from '../../../src/flow/index.ts';

function flowWith(bargeIn: boolean | 'dtmf' | undefined): FlowFile {
  const menu: Record<string, unknown> = {
    say: 'Press 1 for hours, or 2 to hear this again.',
    on: { 'dtmf:1': 'hours', 'dtmf:2': 'menu' },
  };
  if (bargeIn !== undefined) menu.bargeIn = bargeIn;
  const result = validateFlow({
    id: 'barge',
    version: 1,
    start: 'menu',
    states: { menu, hours: { say: 'We are open from 9 to 5.', hangup: true } },
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.findings));
  return result.flow;
}

function run(flow: FlowFile) {
  const actor = createActor(compileFlow(flow).machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  let at = 1000;
  const send = (event: Record<string, unknown>): Effect[] => {
    const before = effects.length;
    at += 100;
    actor.send({ ...event, at } as CallEvent);
    return effects.slice(before);
  };
  send({ type: 'call.start', callId: 'CA1' });
  const ctx = () => actor.getSnapshot().context;
  return { send, ctx, effects };
}

test('speech over an interruptible prompt clears it; the cut mark no longer counts as heard', () => {
  for (const bargeIn of [undefined, true] as const) {
    const call = run(flowWith(bargeIn));
    const mark = call.ctx().playing;
    assert.ok(mark !== null);
    assert.deepEqual(call.send({ type: 'speech.start' }), [{ type: 'clear' }]);
    assert.equal(call.ctx().playing, null);
    // The cut prompt's mark, if it is echoed all the same, does not start the no-input wait.
    assert.deepEqual(call.send({ type: 'played', mark }), []);
    assert.equal(call.ctx().state, 'menu');
    // What the caller said is routed as ever.
    call.send({ type: 'dtmf', digit: '1' });
    assert.equal(call.ctx().state, 'hours');
  }
});

test('speech over a prompt with bargeIn "dtmf" or false is ignored; the prompt plays on', () => {
  for (const bargeIn of ['dtmf', false] as const) {
    const call = run(flowWith(bargeIn));
    const mark = call.ctx().playing;
    assert.deepEqual(call.send({ type: 'speech.start' }), []);
    assert.equal(call.ctx().playing, mark);
  }
});

test('speech once the prompt has been heard, or in a state that does not wait, changes nothing', () => {
  const call = run(flowWith(true));
  call.send({ type: 'played', mark: call.ctx().playing });
  assert.deepEqual(call.send({ type: 'speech.start' }), []);
  call.send({ type: 'dtmf', digit: '1' });
  assert.equal(call.ctx().state, 'hours');
  assert.deepEqual(call.send({ type: 'speech.start' }), [], 'hours only speaks, it waits for no answer');
});

test('a key during a bargeIn:false prompt is ignored; once the prompt has played, keys count', () => {
  const call = run(flowWith(false));
  const mark = call.ctx().playing;
  assert.deepEqual(call.send({ type: 'dtmf', digit: '1' }), []);
  assert.equal(call.ctx().state, 'menu');
  call.send({ type: 'played', mark });
  call.send({ type: 'dtmf', digit: '1' });
  assert.equal(call.ctx().state, 'hours');
});

test('a key cuts a bargeIn:"dtmf" prompt short', () => {
  const call = run(flowWith('dtmf'));
  const effects = call.send({ type: 'dtmf', digit: '1' });
  assert.equal(effects[0]?.type, 'clear');
  assert.equal(call.ctx().state, 'hours');
});
