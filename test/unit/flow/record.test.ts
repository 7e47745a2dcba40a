/**
 * Recording with consent: a `record` line (the flow's, or a state's) is said before the state's prompt and the
 * recording starts once it has been heard, once per call; `sensitive` states pause it and the next state that is
 * not sensitive resumes it. The runner's answers are kept wherever the call is. Also how `run.record` carries the
 * effect out through its ports, the effect and events in words, and the checks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createActor } from 'xstate';
import { runEffect } from '../../../src/flow/actions/index.ts';
import { describeEffect, describeEvent } from '../../../src/flow/describe.ts';
import { flowGraph } from '../../../src/flow/graph.ts';
import {
  compileFlow,
  effectKey,
  flowEnvNames,
  flowVarNames,
  spokenTemplates,
  TALLIES,
  validateFlow,
  type CallEvent,
  type Effect,
  type FlowFile,
} from '../../../src/flow/index.ts';
import { fakePorts } from './fake-ports.ts';

const CONSENT = 'This call is recorded for quality and training.';
const DESK_CONSENT = 'Calls with the desk are recorded.';

/** A menu, a desk that records, a sensitive card entry, and, with `fromStart`, a call recorded from its start. */
function payFlow(fromStart: boolean): FlowFile {
  return {
    id: 'pay',
    version: 1,
    start: 'greet',
    ...(fromStart ? { record: CONSENT } : {}),
    states: {
      greet: { say: 'Press 1 to pay, 2 for the desk.', on: { 'dtmf:1': 'card', 'dtmf:2': 'desk' } },
      desk: { record: DESK_CONSENT, say: 'The desk. Press 9 for the menu.', on: { 'dtmf:9': 'greet' } },
      card: {
        say: 'Key in your card number, then pound.',
        sensitive: true,
        collect: { slot: 'card', digits: { min: 12, max: 19, terminator: '#' } },
        next: 'paid',
      },
      paid: { say: 'Paid. Press 9 for the menu.', on: { 'dtmf:9': 'greet' } },
    },
  };
}

/** The flow's machine, started unless told; `send` stamps events with increasing times, `take` the new effects. */
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
  const keys = (digits: string): void => {
    for (const digit of digits) send({ type: 'dtmf', digit });
  };
  const take = (): Effect[] => effects.splice(0);
  const ctx = () => actor.getSnapshot().context;
  if (start) send({ type: 'call.start', callId: 'CA1', env: {} });
  return { actor, send, keys, take, ctx };
}

const records = (effects: Effect[]) => effects.filter((e) => e.type === 'record');
const shapes = (effects: Effect[]) =>
  effects.map((e) =>
    e.type === 'say' ? `say ${e.text}` : e.type === 'record' ? `record ${e.action}` : e.type,
  );

test("the flow's record: the consent line first, the start after it, then the first prompt", () => {
  const call = run(payFlow(true));
  assert.deepEqual(call.take(), [
    { type: 'say', text: CONSENT, mark: 'greet.1' },
    { type: 'record', id: 'greet.2', action: 'start' },
    { type: 'say', text: 'Press 1 to pay, 2 for the desk.', mark: 'greet.3' },
  ]);
  assert.equal(call.ctx().recording, 'on');
  assert.equal(call.ctx().playing, 'greet.3', 'the prompt is what the state waits to be heard');
  // The desk's own line is not said again: a call has one recording.
  call.keys('2');
  assert.deepEqual(shapes(call.take()), ['clear', 'say The desk. Press 9 for the menu.']);
});

test('without a record line nothing is said or asked for', () => {
  const call = run(payFlow(false));
  assert.deepEqual(shapes(call.take()), ['say Press 1 to pay, 2 for the desk.']);
  assert.equal(call.ctx().recording, undefined);
});

test("a state's record starts the recording on entering it, once per call", () => {
  const call = run(payFlow(false));
  call.take();
  call.keys('2');
  const effects = call.take();
  assert.deepEqual(shapes(effects), [
    'clear',
    `say ${DESK_CONSENT}`,
    'record start',
    'say The desk. Press 9 for the menu.',
  ]);
  assert.deepEqual(records(effects), [{ type: 'record', id: 'desk.3', action: 'start' }]);
  assert.equal(call.ctx().recording, 'on');
  call.keys('9');
  call.keys('2');
  assert.deepEqual(records(call.take()), [], 'entered again while recording: nothing more');
});

test('a sensitive state pauses the recording before its prompt; the next state resumes it', () => {
  const call = run(payFlow(true));
  call.take();
  call.keys('1');
  const entering = call.take();
  assert.deepEqual(shapes(entering), ['clear', 'record pause', 'say Key in your card number, then pound.']);
  assert.deepEqual(records(entering), [{ type: 'record', id: 'card.4', action: 'pause' }]);
  assert.equal(call.ctx().recording, 'paused');

  // A retry in the sensitive state asks for nothing more.
  call.send({ type: 'played', mark: call.ctx().playing });
  call.send({ type: 'timer', id: call.ctx().timer });
  assert.equal(call.ctx().retries, 1);
  assert.deepEqual(records(call.take()), []);

  call.keys('4111111111111111#');
  assert.equal(call.ctx().state, 'paid');
  const leaving = call.take();
  assert.deepEqual(shapes(leaving).slice(-2), ['record resume', 'say Paid. Press 9 for the menu.']);
  assert.equal(call.ctx().recording, 'on');
  call.keys('9');
  assert.deepEqual(records(call.take()), []);
});

test('without a recording, a sensitive state pauses nothing and the next resumes nothing', () => {
  const call = run(payFlow(false));
  call.keys('1');
  call.keys('4111111111111111#');
  assert.equal(call.ctx().state, 'paid');
  assert.deepEqual(records(call.take()), []);
  assert.equal(call.ctx().recording, undefined);
});

test('record.started keeps the SID where the call is: no move, no retry, no timer, typed keys kept', () => {
  const call = run(payFlow(true));
  call.keys('1');
  call.send({ type: 'played', mark: call.ctx().playing });
  call.keys('41');
  call.take();
  const before = call.ctx();
  call.send({ type: 'record.started', id: 'greet.2', sid: 'RE0123456789abcdef0123456789abcdef' });
  assert.deepEqual(call.take(), []);
  const after = call.ctx();
  assert.equal(after.recordingSid, 'RE0123456789abcdef0123456789abcdef');
  assert.equal(after.state, 'card');
  assert.equal(after.digits, '41');
  assert.equal(after.timer, before.timer);
  assert.equal(after.retries, before.retries);
  assert.equal(after.recording, 'paused');
  call.keys('41111111111111#');
  assert.equal(call.ctx().slots.card, '4141111111111111');
});

test('a failed start leaves the call unrecorded, and a later record state starts it again', () => {
  const call = run(payFlow(true));
  call.take();
  call.send({ type: 'record.failed', id: 'greet.2', action: 'start', reason: 'Twilio said no' });
  assert.deepEqual(call.take(), []);
  assert.equal(call.ctx().recording, undefined);
  assert.equal(call.ctx().state, 'greet');
  call.keys('1');
  assert.deepEqual(records(call.take()), [], 'nothing to pause');
  call.keys('4111111111111111#');
  call.keys('9');
  call.keys('2');
  const again = records(call.take());
  assert.deepEqual(
    again.map((e) => e.type === 'record' && e.action),
    ['start'],
  );
  assert.match(again[0]?.type === 'record' ? again[0].id : '', /^desk\.\d+$/);
  assert.equal(call.ctx().recording, 'on');
});

test('a failed pause changes nothing: the call goes on, and leaving the state resumes', () => {
  const call = run(payFlow(true));
  call.keys('1');
  call.take();
  call.send({ type: 'record.failed', id: 'card.4', action: 'pause', reason: 'no recording' });
  assert.deepEqual(call.take(), []);
  assert.equal(call.ctx().recording, 'paused');
  call.keys('4111111111111111#');
  assert.deepEqual(
    records(call.take()).map((e) => e.type === 'record' && e.action),
    ['resume'],
  );
});

test('answers before call.start or after the call ended are ignored', () => {
  const call = run(payFlow(true), { start: false });
  call.send({ type: 'record.started', id: 'greet.2', sid: 'RE1' });
  assert.equal(call.ctx().recordingSid, undefined);
  assert.equal(call.ctx().lastEventAt, 0);
  call.send({ type: 'call.start', callId: 'CA1', env: {} });
  assert.equal(call.ctx().state, 'greet');
  call.send({ type: 'hangup', reason: 'caller hung up' });
  call.take();
  call.send({ type: 'record.failed', id: 'greet.2', action: 'start', reason: 'gone' });
  assert.equal(call.actor.getSnapshot().status, 'done');
  assert.deepEqual(call.take(), []);
});

test('a state that waits without a prompt starts its wait once the consent line has been heard', () => {
  const flow: FlowFile = {
    id: 'quiet',
    version: 1,
    start: 'menu',
    record: CONSENT,
    states: { menu: { on: { 'dtmf:1': 'bye' } }, bye: { say: 'Bye.', hangup: true } },
  };
  const call = run(flow);
  assert.deepEqual(shapes(call.take()), [`say ${CONSENT}`, 'record start']);
  assert.equal(call.ctx().timer, null);
  call.send({ type: 'played', mark: 'menu.1' });
  assert.deepEqual(shapes(call.take()), ['timer.start']);
});

/** Ports that keep the recording requests they are asked, answered with `answer`. */
function recordPorts(answer: () => Promise<{ sid: string } | null>) {
  const asked: string[] = [];
  const fake = fakePorts({
    record: (action) => {
      asked.push(action);
      return answer();
    },
  });
  return { ...fake, asked };
}

test('run.record starts once what was said has been heard, and delivers the SID', async () => {
  const fake = recordPorts(() => Promise.resolve({ sid: 'RE42' }));
  assert.equal(runEffect({ type: 'record', id: 'greet.2', action: 'start' }, fake.ports), true);
  assert.deepEqual(fake.asked, [], 'not before the consent line is heard');
  await fake.heard();
  assert.deepEqual(fake.asked, ['start']);
  assert.deepEqual(fake.delivered, [{ type: 'record.started', at: 5000, id: 'greet.2', sid: 'RE42' }]);
});

test('run.record: a pause, or an answer of null, delivers nothing', async () => {
  const fake = recordPorts(() => Promise.resolve(null));
  runEffect({ type: 'record', id: 'card.4', action: 'pause' }, fake.ports);
  runEffect({ type: 'record', id: 'greet.2', action: 'start' }, fake.ports);
  await fake.heard();
  assert.deepEqual(fake.asked, ['pause', 'start']);
  assert.deepEqual(fake.delivered, []);
  assert.deepEqual(fake.logged, []);
});

test('run.record: a refusal is delivered as record.failed and logged without personal data', async () => {
  const fake = recordPorts(() => Promise.reject(new Error('recording not found')));
  runEffect({ type: 'record', id: 'card.4', action: 'pause' }, fake.ports);
  await fake.heard();
  assert.deepEqual(fake.delivered, [
    { type: 'record.failed', at: 5000, id: 'card.4', action: 'pause', reason: 'recording not found' },
  ]);
  assert.equal(fake.logged.length, 1);
  assert.equal(fake.logged[0]?.msg, 'recording request failed');
  assert.equal(fake.logged[0]?.fields?.id, 'card.4');
  assert.equal(fake.logged[0]?.fields?.action, 'pause');
  assert.equal(fake.logged[0]?.fields?.pii, undefined);

  const ended = recordPorts(() => Promise.reject(new Error('call ended')));
  runEffect({ type: 'record', id: 'desk.3', action: 'start' }, ended.ports);
  ended.stop();
  await ended.heard();
  assert.deepEqual(ended.delivered, [], 'nothing after the call has ended');
  assert.deepEqual(ended.logged, []);
});

test('the effect and its answers in words, their journal key and what the calls page counts', () => {
  assert.deepEqual(describeEffect({ type: 'record', id: 'card.4', action: 'pause' }), {
    kind: 'event',
    title: 'recording pause asked for',
    detail: null,
  });
  assert.deepEqual(describeEvent({ type: 'record.started', at: 1, id: 'greet.2', sid: 'RE42' }), {
    kind: 'event',
    title: 'recording started',
    detail: 'RE42',
  });
  assert.deepEqual(
    describeEvent({ type: 'record.failed', at: 1, id: 'greet.2', action: 'start', reason: 'refused' }),
    { kind: 'event', title: 'recording start failed', detail: 'refused' },
  );
  assert.equal(effectKey('CA1', { type: 'record', id: 'greet.2', action: 'start' }), 'CA1:greet.2');
  assert.deepEqual(
    TALLIES.filter((t) => t.thing.startsWith('recording')).map((t) => `${t.thing} ${t.what}`),
    ['recording started', 'recording request failed'],
  );
});

test('the consent lines are read as templates: env names, call variables, shared prompts, the diagram', () => {
  const flow: FlowFile = {
    ...payFlow(false),
    record: 'Hello {{call.vars.name}}, {{env.SHOP}} records this call.',
  };
  assert.deepEqual(flowEnvNames(flow), ['SHOP']);
  assert.deepEqual(flowVarNames(flow), ['name']);
  assert.ok(spokenTemplates(flow).includes(flow.record ?? ''));
  assert.ok(spokenTemplates(flow).includes(DESK_CONSENT));
  const mermaid = flowGraph(flow, 'mermaid');
  assert.match(mermaid, /desk.*\(record\)/);
  assert.match(mermaid, /card.*\(sensitive\)/);
});

const errorsOf = (flow: unknown) =>
  validateFlow(flow)
    .findings.filter((f) => f.severity === 'error')
    .map(({ pointer, message }) => `${pointer}: ${message}`);

test('the checks: a record line is text, sensitive is true or false, and the two do not meet', () => {
  const flow = payFlow(false);
  const withState = (state: Record<string, unknown>) => ({
    ...flow,
    states: { ...flow.states, desk: state },
  });
  const desk = flow.states.desk as Record<string, unknown>;
  assert.deepEqual(errorsOf(withState({ ...desk, record: ' ' })), [
    '/states/desk/record: record must be the consent line, non-empty text',
  ]);
  assert.deepEqual(errorsOf(withState({ ...desk, record: 3 })), [
    '/states/desk/record: record must be the consent line, non-empty text',
  ]);
  assert.deepEqual(errorsOf(withState({ ...desk, sensitive: 'yes' })), [
    '/states/desk/sensitive: sensitive must be true or false',
  ]);
  assert.deepEqual(errorsOf(withState({ ...desk, sensitive: true })), [
    '/states/desk/record: a sensitive state cannot start the recording: it would pause it at once',
  ]);
  assert.deepEqual(errorsOf(withState({ ...desk, record: 'Recorded for {{card}}.' })), [
    '/states/desk/record: slot "card" may be spoken before it is collected: the path "greet" -> "desk" never collects or sets it',
  ]);
  assert.deepEqual(errorsOf({ ...flow, record: '' }), [
    "/record: the flow's record must be the consent line, non-empty text",
  ]);
  assert.deepEqual(errorsOf({ ...flow, record: 'Recorded, {{card}}.' }), [
    '/record: the flow\'s record line is said as the call starts, before slot "card" is stored',
  ]);
  assert.deepEqual(errorsOf({ ...flow, record: '{{env.shop}} records calls.' }), [
    '/record: "{{env.shop}}" is not an environment variable name',
  ]);
  const typo = validateFlow({ ...flow, recrod: CONSENT }).findings;
  assert.equal(typo[0]?.pointer, '/recrod');
  assert.match(typo[0]?.hint ?? '', /\brecord\b/);
});
