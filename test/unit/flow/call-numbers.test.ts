/**
 * `{{call.NAME}}`: how the call reached its flow. Templates read the direction and the numbers (filters
 * included), conditions test them, validation names an unknown `call.x` with the closest known name, and a
 * `call.start` without `call` (a journal from before it) is an inbound call whose numbers are unknown.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createActor } from 'xstate';
import {
  compileFlow,
  renderTemplate,
  validateFlow,
  type CallEvent,
  type CallInfo,
  type Effect,
} from '../../../src/flow/index.ts';
import {
  conditionCalls,
  conditionSlots,
  evaluateCondition,
  formatCondition,
  parseCondition,
} from '../../../src/flow/conditions.ts';
import { describeEvent } from '../../../src/flow/describe.ts';
import { escapeSsml } from '../../../src/flow/actions/index.ts';

const CALLER: CallInfo = { direction: 'inbound', from: '+15555550123', to: '+15555550100' };

const render = (template: string, call?: CallInfo, slots: Record<string, string> = {}): string =>
  renderTemplate(template, slots, { env: {}, call });

test('templates read the call: direction, numbers, and filters on them', () => {
  assert.equal(
    render('{{call.direction}} from {{call.from}} to {{call.to}}', CALLER),
    'inbound from +15555550123 to +15555550100',
  );
  assert.equal(render('{{ call.from | digits }}', CALLER), '+, 1, 5, 5, 5, 5, 5, 5, 0, 1, 2, 3');
  assert.equal(render('{{call.direction}}', { direction: 'outbound' }), 'outbound');
  // Unknown numbers (a chat, the softphone) and an absent `call` read as nothing; absent is inbound.
  assert.equal(render('[{{call.from}}][{{call.to|digits}}]', { direction: 'inbound' }), '[][]');
  assert.equal(render('{{call.direction}} [{{call.from}}]', undefined), 'inbound []');
  // Unknown names, and names only an object has, are nothing; a slot named like one is not read instead.
  assert.equal(render('[{{call.constructor}}][{{call.x}}]', CALLER, { 'call.x': 'no' }), '[][]');
  // A journal from another build may hold anything: a direction other than outbound is inbound.
  const odd = { direction: 'sideways', from: 7 } as unknown as CallInfo;
  assert.equal(render('{{call.direction}} [{{call.from}}]', odd), 'inbound []');
  // Escaped as any inserted value is, inside SSML.
  const ssml = renderTemplate(
    '<speak>{{call.to}}</speak>',
    {},
    { env: {}, call: { direction: 'inbound', to: 'client:a&b' } },
    escapeSsml,
  );
  assert.equal(ssml, '<speak>client:a&#38;b</speak>');
});

/** A flow greeting the caller with `say`, then branching on `next`. */
function flowWith(say: string, next: unknown = 'bye'): unknown {
  return {
    id: 'numbers',
    version: 1,
    start: 'hello',
    states: {
      hello: { say, next },
      bye: { say: 'Goodbye.', hangup: true },
      callback: { say: 'We called you about your order.', hangup: true },
    },
  };
}

const errors = (flow: unknown) => {
  const result = validateFlow(flow);
  return result.findings.filter((f) => f.severity === 'error');
};

test('call. names need no state to store them: a flow reading them is valid, with no warnings', () => {
  const flow = flowWith('You are calling from {{call.from|digits}}.', [
    { if: 'call.direction == "outbound" && call.from', goto: 'callback' },
    { goto: 'bye' },
  ]);
  const result = validateFlow(flow);
  assert.ok(result.ok, JSON.stringify(result.findings));
  assert.deepEqual(result.findings, []);
});

test('an unknown call.x in a template is an error with a "did you mean" hint', () => {
  const found = errors(flowWith('You called {{call.form}}.'));
  assert.equal(found.length, 1);
  assert.equal(found[0]?.pointer, '/states/hello/say');
  assert.equal(found[0]?.message, 'template uses "call.form", which a call does not have');
  const known = 'known call values: call.direction, call.from, call.to, call.answeredBy, call.vars.NAME';
  assert.equal(found[0]?.hint, `did you mean "call.from"? ${known}`);
  const far = errors(flowWith('{{call.caller_id|digits}}'));
  assert.equal(far[0]?.hint, known);
});

test('an unknown call.x in a condition is an error with a "did you mean" hint', () => {
  const found = errors(
    flowWith('Hello.', [{ if: 'call.dirction == "outbound"', goto: 'callback' }, { goto: 'bye' }]),
  );
  assert.equal(found.length, 1);
  assert.equal(found[0]?.pointer, '/states/hello/next/0/if');
  assert.equal(found[0]?.message, 'condition uses "call.dirction", which a call does not have');
  assert.match(found[0]?.hint ?? '', /^did you mean "call.direction"\?/);
});

test('conditions read call. names as operands, not as slots', () => {
  const parsed = parseCondition('call.direction == "outbound" && size in ["large"] || !call.to');
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.slots, ['size']);
  assert.deepEqual(parsed.value.calls, ['direction', 'to']);
  assert.deepEqual(conditionSlots(parsed.value.condition), ['size']);
  assert.deepEqual(conditionCalls(parsed.value.condition), ['direction', 'to']);
  // Printed back, it parses to the same condition.
  const printed = formatCondition(parsed.value.condition);
  const again = parseCondition(printed);
  assert.ok(again.ok);
  assert.deepEqual(again.value.condition, parsed.value.condition);

  const holds = (source: string, call?: CallInfo, slots: Record<string, string> = {}): boolean => {
    const p = parseCondition(source);
    assert.ok(p.ok, source);
    return evaluateCondition(p.value.condition, slots, call);
  };
  assert.equal(holds('call.direction == "outbound"', { direction: 'outbound' }), true);
  assert.equal(holds('call.direction == "outbound"', CALLER), false);
  assert.equal(holds('call.direction == "inbound"', undefined), true, 'absent is inbound');
  assert.equal(holds('call.from', CALLER), true, 'a bare call. name holds when known');
  assert.equal(holds('call.from', { direction: 'inbound' }), false);
  assert.equal(holds('call.to == "+15555550100"', CALLER), true);
  assert.equal(holds('call.from in ["+15555550123"]', CALLER), true);
  // A slot cannot stand in for the call.
  assert.equal(holds('call.direction == "outbound"', undefined, { 'call.direction': 'outbound' }), false);
});

test('a dotted name other than call.NAME does not parse, with a message saying what does', () => {
  const env = parseCondition('env.SHOP == "x"');
  assert.ok(!env.ok);
  assert.equal(env.offset, 0);
  assert.match(
    env.message,
    /environment variables cannot be tested in a condition; the names with a dot are call\.direction, call\.from, call\.to, call\.answeredBy, call\.vars\.NAME$/,
  );
  const other = parseCondition('size == "l" && order.size == "l"');
  assert.ok(!other.ok);
  assert.equal(other.offset, 15);
  assert.match(other.message, /"order\.size" cannot be read here: slot names have no dot/);
});

/** The machine of `flow` on a `call.start` carrying `call` (none when undefined); the effects it asked for. */
function run(flow: unknown, call?: CallInfo): { effects: Effect[]; state: string } {
  const result = validateFlow(flow);
  assert.ok(result.ok, JSON.stringify(result.findings));
  const actor = createActor(compileFlow(result.flow).machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  const start: CallEvent = { type: 'call.start', at: 1, callId: 'CA1', env: {}, ...(call ? { call } : {}) };
  actor.send(start);
  const said = effects.find((e) => e.type === 'say');
  if (said?.type === 'say') actor.send({ type: 'played', at: 2, mark: said.mark });
  return { effects, state: actor.getSnapshot().context.state };
}

test('a call branches on call.direction, and its prompt reads the number it came from', () => {
  const flow = flowWith('Calling from {{call.from|digits}}.', [
    { if: 'call.direction == "outbound"', goto: 'callback' },
    { goto: 'bye' },
  ]);
  const inbound = run(flow, { direction: 'inbound', from: '+123' });
  const first = inbound.effects.find((e) => e.type === 'say');
  assert.equal(first?.type === 'say' && first.text, 'Calling from +, 1, 2, 3.');
  assert.equal(inbound.state, 'bye');
  assert.equal(run(flow, { direction: 'outbound', to: '+123' }).state, 'callback');
  // A journal from before calls carried `call`: inbound, no number.
  const old = run(flow);
  const said = old.effects.find((e) => e.type === 'say');
  assert.equal(said?.type === 'say' && said.text, 'Calling from .');
  assert.equal(old.state, 'bye');
});

test('the call.start event in words names no number', () => {
  const event = { type: 'call.start', at: 1, callId: 'CA1', env: { SECRET: 's3' }, call: CALLER };
  const said = describeEvent(event);
  assert.deepEqual(said, { kind: 'event', title: 'call answered', detail: null });
  const outbound = describeEvent({ ...event, call: { direction: 'outbound', to: '+15555550100' } });
  assert.equal(outbound.title, 'outbound call answered');
  assert.doesNotMatch(JSON.stringify(outbound), /5555|s3/);
});
