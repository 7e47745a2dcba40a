/**
 * `{{call.vars.NAME}}` and `call.answeredBy`: what an outbound call was dialled with, and who answered it.
 * Templates and conditions read them (empty until known), validation accepts any well-formed variable name and
 * names a malformed one, and `flowVarNames` lists the variables a dialler must give.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  flowVarNames,
  renderTemplate,
  validateFlow,
  type CallInfo,
  type FlowFile,
} from '../../../src/flow/index.ts';
import {
  conditionCalls,
  evaluateCondition,
  formatCondition,
  parseCondition,
} from '../../../src/flow/conditions.ts';

const DIALLED: CallInfo = {
  direction: 'outbound',
  to: '+15555550100',
  vars: { name: 'Ada', date: '2026-12-09', time: '14:30', plan: 'gold', pin: '0071' },
};

const render = (template: string, call?: CallInfo, slots: Record<string, string> = {}): string =>
  renderTemplate(template, slots, { env: {}, call });

test('templates read the dialled variables, with filters, and who answered', () => {
  assert.equal(
    render('Hello {{call.vars.name}}, on {{call.vars.date|date}} at {{ call.vars.time | time }}.', DIALLED),
    'Hello Ada, on Wednesday, December 9th at 2:30 PM.',
  );
  assert.equal(render('{{call.vars.pin|digits}}', DIALLED), '0, 0, 7, 1');
  assert.equal(render('[{{call.answeredBy}}]', DIALLED), '[]', 'empty until known');
  assert.equal(render('[{{call.answeredBy}}]', { ...DIALLED, answeredBy: 'human' }), '[human]');
  // An absent variable, an absent `vars`, and an absent call are all empty text.
  assert.equal(render('[{{call.vars.surname}}]', DIALLED), '[]');
  assert.equal(render('[{{call.vars.name}}]', { direction: 'outbound' }), '[]');
  assert.equal(render('[{{call.vars.name}}][{{call.answeredBy}}]', undefined), '[][]');
  // Own properties only, as with slots; and a slot named like a variable is not read instead.
  assert.equal(render('[{{call.vars.constructor}}][{{call.vars.toString}}]', DIALLED), '[][]');
  assert.equal(render('[{{call.vars.x}}]', DIALLED, { 'call.vars.x': 'no' }), '[]');
});

test('a call from a journal of another build is read defensively', () => {
  const odd = {
    direction: 'outbound',
    vars: { name: 7, list: ['a'], ok: 'yes' },
    answeredBy: 'robot',
  } as unknown as CallInfo;
  assert.equal(render('[{{call.vars.name}}][{{call.vars.list}}][{{call.vars.ok}}]', odd), '[][][yes]');
  assert.equal(render('[{{call.answeredBy}}]', odd), '[]', 'an answer this build does not know');
  const notAnObject = { direction: 'outbound', vars: 'name=Ada' } as unknown as CallInfo;
  assert.equal(render('[{{call.vars.name}}]', notAnObject), '[]');
});

const holds = (source: string, call?: CallInfo, slots: Record<string, string> = {}): boolean => {
  const parsed = parseCondition(source);
  assert.ok(parsed.ok, source);
  return evaluateCondition(parsed.value.condition, slots, call);
};

test('conditions test the dialled variables and who answered', () => {
  const human: CallInfo = { ...DIALLED, answeredBy: 'human' };
  assert.equal(holds('call.answeredBy == "human"', human), true);
  assert.equal(holds('call.answeredBy == "human"', DIALLED), false, 'not known yet');
  assert.equal(holds('call.answeredBy', DIALLED), false, 'a bare one holds once known');
  assert.equal(holds('call.answeredBy', human), true);
  assert.equal(holds('call.answeredBy in ["machine_start", "fax"]', { ...DIALLED, answeredBy: 'fax' }), true);
  assert.equal(holds('call.vars.plan == "gold"', DIALLED), true);
  assert.equal(holds('call.vars.plan == "gold"', { direction: 'outbound' }), false);
  assert.equal(holds('call.vars.coupon', DIALLED), false);
  assert.equal(holds('!call.vars.coupon && call.vars.plan != "silver"', DIALLED), true);
  // Compared as slots are: a quoted PIN matches exactly, a date orders as a date.
  assert.equal(holds('call.vars.pin == "0071"', DIALLED), true);
  assert.equal(holds('call.vars.pin == "71"', DIALLED), false);
  assert.equal(holds('call.vars.date >= "2026-12-01"', DIALLED), true);
  assert.equal(holds('call.vars.plan == "gold"', undefined, { 'call.vars.plan': 'gold' }), false);

  const parsed = parseCondition('call.vars.plan == "gold" && call.answeredBy != "fax" && size');
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.slots, ['size']);
  assert.deepEqual(conditionCalls(parsed.value.condition), ['vars.plan', 'answeredBy']);
  const again = parseCondition(formatCondition(parsed.value.condition));
  assert.ok(again.ok);
  assert.deepEqual(again.value.condition, parsed.value.condition);
});

/** A flow whose greeting says `say` and branches on `next`. */
function flowWith(say: string, next: unknown = 'bye'): unknown {
  return {
    id: 'vars',
    version: 1,
    start: 'hello',
    states: {
      hello: { say, next },
      bye: { say: 'Goodbye.', hangup: true },
      gold: { say: 'Thanks for being a gold member.', hangup: true },
    },
  };
}

const errorsOf = (flow: unknown) => validateFlow(flow).findings.filter((f) => f.severity === 'error');

test('call.vars.NAME and call.answeredBy need no state to store them: valid, with no findings', () => {
  const result = validateFlow(
    flowWith('Hello {{call.vars.name}} ({{call.answeredBy}}), on {{call.vars.date|date}}.', [
      { if: 'call.vars.plan == "gold" && call.answeredBy == "human"', goto: 'gold' },
      { goto: 'bye' },
    ]),
  );
  assert.ok(result.ok, JSON.stringify(result.findings));
  assert.deepEqual(result.findings, []);
});

test('a malformed variable name is an error saying what a name is', () => {
  const found = errorsOf(flowWith('Hello {{call.vars.1st}}.'));
  assert.equal(found.length, 1);
  assert.equal(found[0]?.pointer, '/states/hello/say');
  assert.equal(found[0]?.message, 'template uses "call.vars.1st", but "1st" is not a variable name');
  assert.match(found[0]?.hint ?? '', /letters, digits and "_", not starting with a digit/);
  // A dot inside the name is no variable either, in a template or a condition.
  const dotted = errorsOf(
    flowWith('Hello {{call.vars.a.b}}.', [{ if: 'call.vars.x.y == "1"', goto: 'gold' }, { goto: 'bye' }]),
  );
  assert.deepEqual(
    dotted.map((f) => [f.pointer, f.message]),
    [
      ['/states/hello/say', 'template uses "call.vars.a.b", but "a.b" is not a variable name'],
      ['/states/hello/next/0/if', 'condition uses "call.vars.x.y", but "x.y" is not a variable name'],
    ],
  );
});

test('a mistyped call.vars or call.answeredBy is named with the closest known value', () => {
  const known = 'known call values: call.direction, call.from, call.to, call.answeredBy, call.vars.NAME';
  const vars = errorsOf(flowWith('Hello {{call.var.name}}.'));
  assert.equal(vars.length, 1);
  assert.equal(vars[0]?.message, 'template uses "call.var.name", which a call does not have');
  assert.equal(vars[0]?.hint, `did you mean "call.vars.NAME"? ${known}`);
  const answered = errorsOf(
    flowWith('Hi.', [{ if: 'call.answeredby == "human"', goto: 'gold' }, { goto: 'bye' }]),
  );
  assert.equal(answered.length, 1);
  assert.equal(answered[0]?.pointer, '/states/hello/next/0/if');
  assert.equal(answered[0]?.hint, `did you mean "call.answeredBy"? ${known}`);
  // `call.vars` alone names no variable.
  assert.equal(errorsOf(flowWith('{{call.vars}}'))[0]?.hint, known);
});

test('flowVarNames: every variable the templates and conditions read, sorted, each once', () => {
  const flow: FlowFile = {
    id: 'vars',
    version: 1,
    start: 'hello',
    states: {
      hello: {
        say: 'Hello {{call.vars.name}}, {{call.from}} {{env.SHOP}} {{greeting}}.',
        set: { greeting: 'Hi {{call.vars.nickname}}' },
        next: [
          { if: 'call.vars.plan == "gold" || call.answeredBy == "human"', goto: 'ask' },
          { goto: 'bye' },
        ],
      },
      ask: {
        say: 'Your code?',
        collect: { slot: 'code', digits: { max: 4 }, validate: 'code == call.vars.code' },
        next: 'bye',
      },
      bye: { say: 'Goodbye {{call.vars.name}}.', hangup: true },
    },
    policy: { noMatchSay: ['Sorry {{call.vars.name}}?', 'Sorry, {{call.vars.title}}?'] },
  };
  assert.ok(validateFlow(flow).ok, JSON.stringify(validateFlow(flow).findings));
  assert.deepEqual(flowVarNames(flow), ['code', 'name', 'nickname', 'plan', 'title']);
  // A flow reading no variable needs none; a malformed one is no name a dialler could give.
  const only = (say: string): FlowFile => ({
    id: 'o',
    version: 1,
    start: 'a',
    states: { a: { say, hangup: true } },
  });
  assert.deepEqual(flowVarNames(only('Hi {{call.to}} {{call.answeredBy}}.')), []);
  const malformed = only('{{call.vars.1x}} {{call.vars.ok}}');
  assert.deepEqual(flowVarNames(malformed), ['ok']);
});

test('flowVarNames reads the states of sub-flows too', () => {
  const flow: FlowFile = {
    id: 'sub',
    version: 1,
    start: 'home',
    subflows: {
      confirm: {
        start: 'ask',
        states: {
          ask: {
            say: 'Is {{call.vars.address}} right?',
            on: { yes: '$return', no: [{ if: 'call.vars.retry == "1"', goto: 'ask' }, { goto: '$return' }] },
          },
        },
      },
    },
    states: {
      home: { call: 'confirm', next: 'bye' },
      bye: { say: 'Goodbye.', hangup: true },
    },
  };
  assert.ok(validateFlow(flow).ok, JSON.stringify(validateFlow(flow).findings));
  assert.deepEqual(flowVarNames(flow), ['address', 'retry']);
});
