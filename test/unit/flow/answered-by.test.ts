/**
 * The `answered` event and the flow's `on.machine`: who answered an outbound call is kept in `call.answeredBy`,
 * and once a machine's greeting is over the call leaves whatever state it is in for the message to leave, once.
 * Also the checks of the flow-level `on`, and flows/reminder.json, which uses both.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createActor } from 'xstate';
import {
  ANSWERED_BY,
  compileFlow,
  flowVarNames,
  isAnsweredBy,
  isMachineEnd,
  validateFlow,
  type AnsweredBy,
  type CallEvent,
  type CallInfo,
  type Effect,
  type FlowFile,
} from '../../../src/flow/index.ts';
import { describeEvent } from '../../../src/flow/describe.ts';
import { flowGraph } from '../../../src/flow/graph.ts';

const VOICEMAIL_SAY = 'Hello {{call.vars.name}}, sorry we missed you. Goodbye.';

/** A greeting that waits for a key, and, with `onMachine`, the voicemail state the flow's `on` leads to. */
function flowWith(onMachine: boolean): FlowFile {
  return {
    id: 'amd',
    version: 1,
    start: 'greet',
    states: {
      greet: { say: 'Hello {{call.vars.name}}. Press 1 to confirm.', on: { 'dtmf:1': 'thanks' } },
      thanks: { say: 'Thanks. Goodbye.', hangup: true },
      ...(onMachine ? { voicemail: { say: VOICEMAIL_SAY, hangup: true } } : {}),
    },
    ...(onMachine ? { on: { machine: 'voicemail' } } : {}),
  };
}

const OUTBOUND: CallInfo = { direction: 'outbound', to: '+15555550100', vars: { name: 'Ada' } };

/** The flow's machine, started; `send` stamps events with increasing times, `take` returns the new effects. */
function run(flow: FlowFile, { start = true }: { start?: boolean } = {}) {
  const result = validateFlow(flow);
  assert.ok(result.ok, JSON.stringify(result.findings));
  const actor = createActor(compileFlow(result.flow).machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  let at = 1000;
  const send = (event: Record<string, unknown> & { type: CallEvent['type'] }): void => {
    at += 100;
    actor.send({ ...event, at } as CallEvent);
  };
  const answered = (answeredBy: AnsweredBy): void => send({ type: 'answered', answeredBy });
  const take = (): Effect[] => effects.splice(0);
  if (start) send({ type: 'call.start', callId: 'CA1', env: {}, call: OUTBOUND });
  const ctx = () => actor.getSnapshot().context;
  return { actor, send, answered, take, ctx };
}

const sayOf = (effects: Effect[]): string | undefined => effects.find((e) => e.type === 'say')?.text;

test('ANSWERED_BY lists what Twilio reports; only the machine_end_ answers mean a message can be left', () => {
  assert.deepEqual(
    [...ANSWERED_BY],
    [
      'human',
      'machine_start',
      'machine_end_beep',
      'machine_end_silence',
      'machine_end_other',
      'fax',
      'unknown',
    ],
  );
  for (const value of ANSWERED_BY) assert.equal(isAnsweredBy(value), true, value);
  for (const value of ['Human', 'machine', '', undefined, null, 3, 'toString']) {
    assert.equal(isAnsweredBy(value), false, String(value));
  }
  assert.deepEqual(
    ANSWERED_BY.filter((value) => isMachineEnd(value)),
    ['machine_end_beep', 'machine_end_silence', 'machine_end_other'],
  );
  assert.equal(isMachineEnd('machine_end_'), false);
  assert.equal(isMachineEnd(undefined), false);
});

test('a machine_end answer during the greeting stops it and leaves the message, then hangs up', () => {
  const call = run(flowWith(true));
  assert.equal(sayOf(call.take()), 'Hello Ada. Press 1 to confirm.');
  const before = call.ctx().call;
  call.answered('machine_end_beep');
  assert.equal(call.ctx().state, 'voicemail');
  assert.deepEqual(call.take(), [
    { type: 'clear' },
    { type: 'say', text: 'Hello Ada, sorry we missed you. Goodbye.', mark: 'voicemail.2' },
    { type: 'hangup' },
  ]);
  assert.deepEqual(call.ctx().call, { ...OUTBOUND, answeredBy: 'machine_end_beep' });
  // The snapshot before is as it was: the answer is kept in a new object.
  assert.deepEqual(before, OUTBOUND);
  assert.notEqual(call.ctx().call, before);
});

test('a second machine_end answer does not say the message again', () => {
  const call = run(flowWith(true));
  call.answered('machine_end_silence');
  assert.equal(call.ctx().state, 'voicemail');
  call.take();
  call.answered('machine_end_beep');
  call.answered('machine_end_other');
  assert.deepEqual(call.take(), []);
  assert.equal(call.ctx().state, 'voicemail');
  assert.equal(call.ctx().call?.answeredBy, 'machine_end_other', 'each answer is kept');
});

test('once the prompt has played, the wait for input is cancelled instead', () => {
  const call = run(flowWith(true));
  const mark = call.ctx().playing;
  call.send({ type: 'played', mark });
  const timer = call.ctx().timer;
  assert.ok(timer !== null);
  call.take();
  call.answered('machine_end_beep');
  const effects = call.take();
  assert.deepEqual(
    effects.map((e) => e.type),
    ['timer.cancel', 'say', 'hangup'],
  );
  assert.equal(call.ctx().timer, null);
});

test('other answers are only kept: a person, a fax, an unknown answer, a greeting just started', () => {
  for (const answeredBy of ['human', 'fax', 'unknown', 'machine_start'] as const) {
    const call = run(flowWith(true));
    call.take();
    call.answered(answeredBy);
    assert.deepEqual(call.take(), [], answeredBy);
    assert.equal(call.ctx().state, 'greet', answeredBy);
    assert.deepEqual(call.ctx().call, { ...OUTBOUND, answeredBy }, answeredBy);
  }
  // A greeting that started, then ended: now the message is left.
  const call = run(flowWith(true));
  call.answered('machine_start');
  call.answered('machine_end_beep');
  assert.equal(call.ctx().state, 'voicemail');
});

test('a person who answered is asked on; the answer is there for templates and conditions', () => {
  const flow: FlowFile = {
    id: 'who',
    version: 1,
    start: 'greet',
    states: {
      greet: { say: 'Hello.', on: { 'dtmf:1': 'check' } },
      check: { next: [{ if: 'call.answeredBy == "human"', goto: 'person' }, { goto: 'other' }] },
      person: { say: 'Answered by {{call.answeredBy}}.', hangup: true },
      other: { say: 'Hm.', hangup: true },
    },
  };
  const call = run(flow);
  call.answered('human');
  call.take();
  call.send({ type: 'dtmf', digit: '1' });
  assert.equal(call.ctx().state, 'person');
  assert.equal(sayOf(call.take()), 'Answered by human.');
});

test('a flow without on.machine only keeps the answer', () => {
  const call = run(flowWith(false));
  call.take();
  call.answered('machine_end_beep');
  assert.deepEqual(call.take(), []);
  assert.equal(call.ctx().state, 'greet');
  assert.equal(call.ctx().call?.answeredBy, 'machine_end_beep');
});

test('an answer before call.start or after the call ended is ignored', () => {
  const call = run(flowWith(true), { start: false });
  call.answered('machine_end_beep');
  assert.equal(call.ctx().call, undefined);
  assert.equal(call.ctx().lastEventAt, 0);
  assert.deepEqual(call.take(), []);
  call.send({ type: 'call.start', callId: 'CA1', env: {}, call: OUTBOUND });
  assert.equal(call.ctx().state, 'greet', 'the call starts as usual');
  assert.equal(call.ctx().call?.answeredBy, undefined);

  call.send({ type: 'hangup', reason: 'caller hung up' });
  call.take();
  call.answered('machine_end_beep');
  assert.equal(call.actor.getSnapshot().status, 'done');
  assert.deepEqual(call.take(), []);
});

test('an answer read from a journal of another build, not one this build knows, changes nothing', () => {
  const call = run(flowWith(true));
  call.take();
  call.send({ type: 'answered', answeredBy: 'robot' });
  assert.deepEqual(call.take(), []);
  assert.deepEqual(call.ctx().call, OUTBOUND);
  assert.equal(call.ctx().state, 'greet');
});

test('the same events give the same states and effects, as a replay needs', () => {
  const script = (): unknown => {
    const call = run(flowWith(true));
    call.answered('machine_start');
    call.answered('machine_end_beep');
    call.answered('machine_end_beep');
    return { effects: call.take(), ctx: call.ctx() };
  };
  assert.deepEqual(script(), script());
});

test('the answered event in words', () => {
  assert.deepEqual(describeEvent({ type: 'answered', at: 1, answeredBy: 'machine_end_beep' }), {
    kind: 'event',
    title: 'answered by machine_end_beep',
    detail: null,
  });
});

const errorsOf = (flow: unknown) => validateFlow(flow).findings.filter((f) => f.severity === 'error');

test("the flow's on: an object, with machine naming a state, or errors with hints", () => {
  const flow = flowWith(true);
  const unknownKey = errorsOf({ ...flow, on: { machine: 'voicemail', fax: 'thanks' } });
  assert.deepEqual(unknownKey, [
    { severity: 'error', pointer: '/on/fax', message: 'unknown property "fax"', hint: 'allowed: machine' },
  ]);
  const mistyped = errorsOf({ ...flow, on: { machine: 'voicemial' } });
  assert.equal(mistyped.length, 1);
  assert.equal(mistyped[0]?.pointer, '/on/machine');
  assert.equal(mistyped[0]?.message, 'unknown state "voicemial"');
  assert.match(mistyped[0]?.hint ?? '', /^did you mean "voicemail"\? known states: greet, thanks, voicemail/);
  assert.equal(errorsOf({ ...flow, on: { machine: 7 } })[0]?.message, 'a target must be a state name');
  const notObject = errorsOf({ ...flow, on: 'voicemail' });
  assert.equal(notObject[0]?.pointer, '/on');
  assert.match(notObject[0]?.hint ?? '', /"on": \{ "machine": "voicemail" \}/);
  assert.deepEqual(errorsOf({ ...flow, on: {} }), [], 'an empty on is no mistake');
});

test('a state reached only through on.machine is reachable, and may be entered before any slot is stored', () => {
  const result = validateFlow(flowWith(true));
  assert.ok(result.ok);
  assert.deepEqual(result.findings, []);
  // Without the flow's on, nothing leads there.
  const { on: _on, ...alone } = flowWith(true);
  const warned = validateFlow(alone).findings;
  assert.deepEqual(
    warned.map((f) => [f.severity, f.pointer]),
    [['warning', '/states/voicemail']],
  );
  // A machine may answer before the slot is collected: the message cannot speak it.
  const flow = flowWith(true);
  const slotted: FlowFile = {
    ...flow,
    states: {
      ...flow.states,
      greet: { say: 'Your code?', collect: { slot: 'code', digits: { max: 4 } }, next: 'thanks' },
      voicemail: { say: 'Your code is {{code}}.', hangup: true },
    },
  };
  assert.deepEqual(
    errorsOf(slotted).map((f) => f.pointer),
    ['/states/voicemail/say'],
  );
});

test('the diagram draws the answering machine leading to its state', () => {
  const mermaid = flowGraph(flowWith(true), 'mermaid');
  assert.match(mermaid, /answering_machine\{\{"answering machine<br\/>\(after its greeting\)"\}\}/);
  assert.match(mermaid, /answering_machine -\.-> s_voicemail/);
  assert.doesNotMatch(flowGraph(flowWith(false), 'mermaid'), /answering/);
});

const reminder = JSON.parse(
  readFileSync(new URL('../../../flows/reminder.json', import.meta.url), 'utf8'),
) as unknown;

function reminderFlow(): FlowFile {
  const result = validateFlow(reminder);
  assert.ok(result.ok, JSON.stringify(result.findings));
  assert.deepEqual(result.findings, []);
  return result.flow;
}

const DIALLED: CallInfo = {
  direction: 'outbound',
  to: '+15555550100',
  vars: { name: 'Ada', date: '2026-12-09', time: '14:30' },
};

/** The reminder flow's call, dialled with `DIALLED`; the greeting's effects are taken. */
function reminderCall() {
  const call = run(reminderFlow(), { start: false });
  call.send({ type: 'call.start', callId: 'CA1', env: {}, call: DIALLED });
  return { ...call, greeting: sayOf(call.take()) };
}

test('reminder.json: a valid flow needing name, date and time, greeting with them', () => {
  assert.deepEqual(flowVarNames(reminderFlow()), ['date', 'name', 'time']);
  assert.equal(
    reminderCall().greeting,
    'Hello Ada, this is a reminder of your appointment on Wednesday, December 9th at 2:30 PM. ' +
      'To confirm, press 1 or say yes. To reschedule, press 2 or say reschedule.',
  );
});

test('reminder.json: confirmed by key or by voice, rescheduled by key or by voice', () => {
  const utterance = (intent: string) => ({
    type: 'utterance' as const,
    text: intent,
    intent,
    confidence: 1,
    entities: {},
  });
  const inputs: [Record<string, unknown> & { type: CallEvent['type'] }, string][] = [
    [{ type: 'dtmf', digit: '1' }, 'confirmed'],
    [utterance('yes'), 'confirmed'],
    [{ type: 'dtmf', digit: '2' }, 'reschedule'],
    [utterance('reschedule'), 'reschedule'],
    [utterance('no'), 'reschedule'],
  ];
  for (const [event, state] of inputs) {
    const call = reminderCall();
    call.send(event);
    assert.equal(call.ctx().state, state, JSON.stringify(event));
    assert.equal(call.take().at(-1)?.type, 'hangup');
  }
});

test('reminder.json: an answering machine gets the message once, with the name and date', () => {
  const call = reminderCall();
  call.answered('machine_end_beep');
  const effects = call.take();
  assert.deepEqual(
    effects.map((e) => e.type),
    ['clear', 'say', 'hangup'],
  );
  assert.equal(
    sayOf(effects),
    'Hello Ada, this is a reminder of your appointment on Wednesday, December 9th at 2:30 PM. ' +
      'Please call us back if you need to change it. Goodbye.',
  );
  call.answered('machine_end_silence');
  assert.deepEqual(call.take(), []);
});

test('reminder.json: no answer ends with a goodbye', () => {
  const call = reminderCall();
  for (let i = 0; i < 2; i++) {
    call.send({ type: 'played', mark: call.ctx().playing });
    call.send({ type: 'timer', id: call.ctx().timer });
  }
  assert.equal(call.ctx().state, 'goodbye');
});
