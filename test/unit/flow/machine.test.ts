import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createActor } from 'xstate';
import {
  compileFlow,
  validateFlow,
  type CallEvent,
  type Effect,
  type FlowFile,
} from '../../../src/flow/index.ts';

const demo = JSON.parse(
  readFileSync(new URL('../../../flows/demo.json', import.meta.url), 'utf8'),
) as unknown;

function demoFlow(): FlowFile {
  const result = validateFlow(demo);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.findings));
  return result.flow;
}

/** Run a flow's machine, collecting effects; events get increasing timestamps. */
function run(flow: FlowFile) {
  const { machine } = compileFlow(flow);
  const actor = createActor(machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  let at = 1000;
  const send = (event: Omit<CallEvent, 'at'> & { type: CallEvent['type'] }) => {
    at += 100;
    actor.send({ ...event, at } as CallEvent);
  };
  send({ type: 'call.start', callId: 'CA1' } as CallEvent);
  const lastSay = () => [...effects].reverse().find((e) => e.type === 'say');
  const played = () => {
    const say = lastSay();
    assert.ok(say && say.type === 'say');
    send({ type: 'played', mark: say.mark } as CallEvent);
  };
  const dtmf = (keys: string) => {
    for (const digit of keys) send({ type: 'dtmf', digit } as CallEvent);
  };
  const state = () => actor.getSnapshot().context.state;
  return { actor, effects, send, lastSay, played, dtmf, state };
}

test('the demo flow greets, then branches to hours on 1 and ends with goodbye', () => {
  const call = run(demoFlow());
  assert.equal(call.state(), 'menu');
  assert.match((call.lastSay() as { text: string }).text, /opening hours, press 1/);
  call.played();
  assert.ok(
    call.effects.some((e) => e.type === 'timer.start'),
    'no-input timer armed after the prompt played',
  );
  call.dtmf('1');
  assert.equal(call.state(), 'hours');
  call.played();
  assert.equal(call.state(), 'goodbye');
  assert.equal(call.effects.at(-1)?.type, 'hangup');
});

test('digits are collected until # and read back one by one', () => {
  const call = run(demoFlow());
  call.played();
  call.dtmf('2');
  assert.equal(call.state(), 'callback');
  call.played();
  call.dtmf('5551234#');
  assert.equal(call.state(), 'confirm');
  assert.equal(call.actor.getSnapshot().context.slots.callback, '5551234');
  assert.match((call.lastSay() as { text: string }).text, /You entered 5, 5, 5, 1, 2, 3, 4\./);
  call.dtmf('1');
  assert.equal(call.state(), 'thanks');
});

test('a key pressed during a prompt clears the audio (barge-in) and still counts', () => {
  const call = run(demoFlow());
  call.dtmf('2');
  assert.equal(call.state(), 'callback');
  assert.ok(call.effects.some((e) => e.type === 'clear'));
});

test('too few digits is a no-match with a reprompt; retries run out into the fallback', () => {
  const call = run(demoFlow());
  call.played();
  call.dtmf('2');
  call.played();
  call.dtmf('5#');
  assert.equal(call.state(), 'callback');
  assert.match((call.lastSay() as { text: string }).text, /didn't understand.*enter your phone number/);
  call.dtmf('#');
  assert.equal(call.state(), 'callback');
  call.dtmf('#');
  assert.equal(call.state(), 'goodbye');
});

test('apologies are templates: slots collected so far are read in them', () => {
  const result = validateFlow({
    id: 'apology',
    version: 1,
    start: 'ask',
    states: {
      ask: { say: 'Your code?', collect: { slot: 'code', digits: { max: 2 } }, next: 'check' },
      check: {
        say: 'Press 1 to confirm.',
        noMatchSay: 'Code {{code|digits}} needs a 1.',
        on: { 'dtmf:1': 'done' },
      },
      done: { say: 'Done.', hangup: true },
    },
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.findings));
  const call = run(result.flow);
  call.played();
  call.dtmf('42');
  call.played();
  call.dtmf('9');
  assert.match((call.lastSay() as { text: string }).text, /^Code 4, 2 needs a 1\. Press 1 to confirm\.$/);
});

test('no input: the timer reprompts, a stale timer id is ignored', () => {
  const call = run(demoFlow());
  call.played();
  const timer = call.effects.find((e) => e.type === 'timer.start');
  assert.ok(timer && timer.type === 'timer.start');
  assert.equal(timer.ms, 6000);
  call.send({ type: 'timer', id: 'not-armed' } as CallEvent);
  const saysBefore = call.effects.filter((e) => e.type === 'say').length;
  assert.equal(saysBefore, 1);
  call.send({ type: 'timer', id: timer.id } as CallEvent);
  const says = call.effects.filter((e) => e.type === 'say');
  assert.equal(says.length, 2);
  assert.match((says[1] as { text: string }).text, /didn't get anything/);
});

test('a timed-out partial entry with enough digits completes the collect', () => {
  const call = run(demoFlow());
  call.played();
  call.dtmf('2');
  call.played();
  call.dtmf('555');
  const timer = [...call.effects].reverse().find((e) => e.type === 'timer.start');
  assert.ok(timer && timer.type === 'timer.start');
  call.send({ type: 'timer', id: timer.id } as CallEvent);
  assert.equal(call.state(), 'confirm');
});

test('the same events give the same effects (deterministic)', () => {
  const script = (call: ReturnType<typeof run>) => {
    call.played();
    call.dtmf('2');
    call.played();
    call.dtmf('123#');
    call.dtmf('1');
    return call.effects;
  };
  assert.deepEqual(script(run(demoFlow())), script(run(demoFlow())));
});

test('hangup from the caller ends the machine from any state', () => {
  const call = run(demoFlow());
  call.send({ type: 'hangup', reason: 'stop' } as CallEvent);
  assert.equal(call.actor.getSnapshot().status, 'done');
});

test('validation finds unknown targets, bad keys and dead ends, with pointers', () => {
  const result = validateFlow({
    id: 'x',
    version: 1,
    start: 'a',
    states: {
      a: { say: 'hi', on: { 'dtmf:1': 'nowhere', 'dtmf:x': 'a' } },
      b: { say: 'stuck' },
      c: { say: 'hello {{name}}', hangup: true },
    },
  });
  assert.equal(result.ok, false);
  const pointers = !result.ok ? result.findings.map((f) => f.pointer) : [];
  assert.ok(pointers.includes('/states/a/on/dtmf:1'));
  assert.ok(pointers.includes('/states/a/on/dtmf:x'));
  assert.ok(pointers.includes('/states/b'));
  assert.ok(pointers.includes('/states/c/say'));
});

test('validation rejects a non-object and a missing start', () => {
  assert.equal(validateFlow('nope').ok, false);
  const r = validateFlow({ id: 'x', version: 1, states: { a: { hangup: true } } });
  assert.ok(!r.ok && r.findings.some((f) => f.pointer === '/start'));
});
