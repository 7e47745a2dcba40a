/** Checks along the paths: reachability, slots used before any path sets them, talking loops, dead ends. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../../src/cli/validate.ts';
import { staticChecks, validateFlow, type StateDef } from '../../../src/flow/index.ts';
import { captureConsole } from '../../fixtures/console.ts';
import { at, check, fixture, flowOf } from './validate-helpers.ts';

test('an unknown target is an error at the input, with a suggestion', async () => {
  const result = await check('unknown-target.json');
  assert.equal(result.ok, false);
  const [f, ...rest] = result.findings;
  assert.deepEqual(rest, []);
  assert.equal(f?.severity, 'error');
  assert.equal(f?.pointer, '/states/confirm/on/dtmf:1');
  assert.equal(f?.message, 'unknown state "chek"');
  assert.match(f?.hint ?? '', /did you mean "check"\?/);
});

test('an unreachable state is a warning and the flow still loads', async () => {
  const result = await check('unreachable-state.json');
  assert.ok(result.ok);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [['warning', '/states/orphan']],
  );
});

test('the fallback and every "on" target count as ways in', () => {
  const flow = flowOf(
    {
      menu: { say: 'Press 1.', on: { 'dtmf:1': 'bye' } },
      bye: { say: 'Bye.', hangup: true },
      rescue: { say: 'Let us start over.', next: 'menu' },
    },
    { policy: { fallback: 'rescue' } },
  );
  assert.deepEqual(staticChecks(flow), []);
  delete flow.policy;
  assert.deepEqual(
    staticChecks(flow).map((f) => f.pointer),
    ['/states/rescue'],
  );
});

test('a "next" the machine never follows does not make its target reachable', () => {
  const findings = staticChecks(
    flowOf({
      menu: { say: 'Press 1.', on: { 'dtmf:1': 'bye' }, next: 'lost' },
      bye: { say: 'Bye.', hangup: true },
      lost: { say: 'Lost.', hangup: true },
    }),
  );
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer]),
    [
      ['warning', '/states/menu/next'],
      ['warning', '/states/lost'],
    ],
  );
});

test('a slot spoken on a path that skips its collection is an error at the prompt', async () => {
  const result = await check('slot-before-collected.json');
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [['error', '/states/confirm/say']],
  );
  assert.match(result.findings[0]?.message ?? '', /"menu" -> "confirm"/);
});

test('a slot is set only after the collecting state, not in its own prompts', () => {
  const collect = { slot: 'pin', digits: { max: 4 } };
  const findings = staticChecks(
    flowOf({
      ask: { say: 'Your pin was {{pin}}.', noMatchSay: 'Not {{pin}}.', collect, next: 'done' },
      done: { say: 'Thanks, {{pin|digits}}.', hangup: true },
    }),
  );
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer]),
    [
      ['error', '/states/ask/say'],
      ['error', '/states/ask/noMatchSay'],
    ],
  );
});

test('the fallback out of a collecting state does not count as collecting', () => {
  const flow = flowOf(
    {
      ask: { say: 'Enter it.', collect: { slot: 'n', digits: { max: 3 } }, next: 'read' },
      read: { say: 'You entered {{n}}.', next: 'bye' },
      bye: { say: 'Bye.', hangup: true },
      oops: { say: 'Still {{n}}?', next: 'bye' },
    },
    { policy: { fallback: 'oops' } },
  );
  assert.deepEqual(
    staticChecks(flow).map((f) => f.pointer),
    ['/states/oops/say'],
  );
});

test('a slot collected in two states must be collected on every path', () => {
  const digits = { max: 3 };
  const states: Record<string, StateDef> = {
    menu: { say: 'Press 1, 2 or 3.', on: { 'dtmf:1': 'a', 'dtmf:2': 'b', 'dtmf:3': 'read' } },
    a: { say: 'Enter it.', collect: { slot: 'n', digits }, next: 'read' },
    b: { say: 'Enter it here.', collect: { slot: 'n', digits }, next: 'read' },
    read: { say: 'You entered {{n}}.', hangup: true },
  };
  assert.deepEqual(
    staticChecks(flowOf(states)).map((f) => f.pointer),
    ['/states/read/say'],
  );
  states.menu = { say: 'Press 1 or 2.', on: { 'dtmf:1': 'a', 'dtmf:2': 'b' } };
  assert.deepEqual(staticChecks(flowOf(states)), []);
});

test('states that only speak and move on in a cycle are an error naming the cycle', async () => {
  const result = await check('talking-loop.json');
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [['error', '/states/news/next']],
  );
  assert.match(result.findings[0]?.message ?? '', /"news" -> "weather" -> "news"/);
});

test('a cycle through a state that waits for input is fine, and so is a silent state', () => {
  const findings = staticChecks(
    flowOf({
      hello: { say: 'Hi.', next: 'menu' },
      menu: { say: 'Press 1 to hear it again.', on: { 'dtmf:1': 'hello' } },
    }),
  );
  assert.deepEqual(findings, []);
  const silent = staticChecks(flowOf({ a: { next: 'a' } }));
  assert.deepEqual(
    silent.map((f) => [f.severity, f.pointer]),
    [['error', '/states/a/next']],
  );
});

test('a dead end is an error at the state', async () => {
  const result = await check('dead-end.json');
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [['error', '/states/stuck']],
  );
});

test('a slot mistyped in a template or a condition gets "did you mean"', async (ctx) => {
  const r = await captureConsole(ctx, () => main([fixture('template-slot-typo.json')]));
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    /error \/states\/confirm\/say template uses slot "readyby", which no state collects or sets \(hint: did you mean "readyBy"\? known slots: readyBy\)/,
  );
  assert.match(
    r.out,
    /error \/states\/confirm\/next\/0\/if condition uses slot "readyby", which no state collects or sets \(hint: did you mean "readyBy"\?/,
  );
  // With no slot stored anywhere there is nothing to suggest or list.
  const none = validateFlow(flowOf({ hi: { say: 'Hello {{name}}.', hangup: true } }));
  assert.deepEqual(
    none.findings.map((f) => [f.message, f.hint]),
    [['template uses slot "name", which no state collects or sets', undefined]],
  );
});

test('policy apologies are templates too: a slot no state collects is an error there', () => {
  const result = validateFlow(
    flowOf(
      { hello: { say: 'Hi', on: { 'dtmf:1': 'hello' } } },
      { policy: { noMatchSay: 'Sorry {{name}}.' } },
    ),
  );
  assert.equal(result.ok, false);
  assert.match(
    at(result.findings, '/policy/noMatchSay')[0]?.message ?? '',
    /slot "name", which no state collects/,
  );
});

test('"set" counts as collecting: its slots may be spoken and tested downstream, not before', () => {
  const states: Record<string, StateDef> = {
    hello: { say: 'Hi.', on: { 'dtmf:1': 'tag', 'dtmf:2': 'read' } },
    tag: { set: { who: 'caller', label: '{{who}} x', empty: '' }, say: 'Tagged {{who}}.', next: 'read' },
    read: { say: 'You are {{who}}.', next: [{ if: 'who == "caller"', goto: 'bye' }, { goto: 'bye' }] },
    bye: { say: 'Bye.', hangup: true },
  };
  const findings = validateFlow(flowOf(states)).findings;
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer]),
    [
      ['error', '/states/tag/set/label'],
      ['error', '/states/read/say'],
      ['warning', '/states/read/next/0/if'],
    ],
  );
  assert.match(findings[0]?.message ?? '', /worked out before any is stored/);
  assert.match(findings[1]?.message ?? '', /the path "hello" -> "read" never collects or sets it/);
  states.hello = { say: 'Hi.', on: { 'dtmf:1': 'tag' } };
  states.tag = { set: { who: 'caller' }, say: 'Tagged {{who}}.', next: 'read' };
  assert.deepEqual(validateFlow(flowOf(states)).findings, []);
});

test("a collecting state's next conditions read its own slot; its prompts do not have it yet", () => {
  const findings = staticChecks(
    flowOf({
      ask: {
        say: 'Size? Last time {{size}}.',
        collect: { slot: 'size', entity: 'number', confirm: '{{size}}, right?' },
        next: [{ if: 'size > 2', goto: 'big' }, { goto: 'bye' }],
      },
      big: { say: 'Big {{size}}.', hangup: true },
      bye: { say: 'Bye.', hangup: true },
    }),
  );
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer]),
    [['error', '/states/ask/say']],
  );
});

test('global intents lead from every waiting state, unless the state binds the intent itself', () => {
  const intents = { operator: { examples: ['agent'], global: 'human' } };
  const states: Record<string, StateDef> = {
    menu: { say: 'Press 1.', on: { 'dtmf:1': 'ask' } },
    ask: { say: 'Number?', collect: { slot: 'n', entity: 'number' }, next: 'bye' },
    human: { say: 'Transferring, caller {{n}}.', hangup: true },
    bye: { say: 'Bye.', hangup: true },
  };
  // Reached through the global from "menu", before "n" is collected.
  assert.deepEqual(
    staticChecks(flowOf(states, { intents })).map((f) => [f.severity, f.pointer]),
    [['error', '/states/human/say']],
  );
  // Without the global, "human" is unreachable.
  assert.deepEqual(
    staticChecks(flowOf(states)).map((f) => [f.severity, f.pointer]),
    [['warning', '/states/human']],
  );
  // A state that handles the intent itself does not take the global.
  states.menu = { say: 'Press 1.', on: { 'dtmf:1': 'ask', operator: 'bye' } };
  states.ask = { say: 'Number?', collect: { slot: 'n', entity: 'number' }, next: 'human' };
  states.human = { say: 'Transferring, caller {{n}}.', hangup: true };
  assert.deepEqual(
    staticChecks(flowOf(states, { intents })).map((f) => [f.severity, f.pointer]),
    [['error', '/states/human/say']],
    'still reachable from "ask" by the global, before n is stored',
  );
});

test('the give-up state is a second root: reachable from anywhere, before any slot is collected', () => {
  const states: Record<string, StateDef> = {
    ask: { say: 'Number?', collect: { slot: 'n', digits: { max: 2 } }, next: 'bye' },
    bye: { say: 'Bye {{n}}.', hangup: true },
    sorry: { say: 'Sorry.', next: 'read' },
    read: { say: 'We had {{n}}.', hangup: true },
  };
  const withGiveUp = flowOf(states, { policy: { supervisor: { onGiveUp: 'sorry' } } });
  assert.deepEqual(
    staticChecks(withGiveUp).map((f) => [f.severity, f.pointer]),
    [['error', '/states/read/say']],
  );
  assert.deepEqual(
    staticChecks(flowOf(states)).map((f) => [f.severity, f.pointer]),
    [
      ['warning', '/states/sorry'],
      ['warning', '/states/read'],
    ],
  );
});

test('a prompt whose next choices may all fail falls through to the fallback', () => {
  const states: Record<string, StateDef> = {
    ask: { say: 'Number?', collect: { slot: 'n', entity: 'number' }, next: 'check' },
    check: { say: 'Checking.', next: [{ if: 'n > 5', goto: 'bye' }] },
    rescue: { say: 'Let us try again.', next: 'ask' },
    bye: { say: 'Bye.', hangup: true },
  };
  const fallback = { policy: { fallback: 'rescue' } };
  assert.deepEqual(staticChecks(flowOf(states, fallback)), []);
  // An unconditional last choice never falls through, and "ask" waits, so the fallback is reachable still.
  states.check = { say: 'Checking.', next: [{ if: 'n > 5', goto: 'bye' }, { goto: 'bye' }] };
  assert.deepEqual(staticChecks(flowOf(states, fallback)), []);
  // A fall-through into a state that loops back without waiting is a talking loop.
  const loop = staticChecks(
    flowOf(
      {
        ask: { say: 'Number?', collect: { slot: 'n', entity: 'number' }, next: 'check' },
        check: { say: 'Checking.', next: [{ if: 'n > 5', goto: 'bye' }] },
        rescue: { say: 'Again.', next: 'check' },
        bye: { say: 'Bye.', hangup: true },
      },
      fallback,
    ),
  );
  assert.deepEqual(
    loop.map((f) => [f.severity, f.pointer]),
    [
      ['error', '/states/check/next'],
      // The fallback from "ask" before "n" is stored leads to "check" too.
      ['warning', '/states/check/next/0/if'],
    ],
  );
  assert.match(loop[0]?.message ?? '', /"check" -> "rescue" -> "check"/);
});

test("a talking loop is found through any of a state's choices, reported once per loop", () => {
  const findings = staticChecks(
    flowOf({
      ask: { say: 'Number?', collect: { slot: 'n', entity: 'number' }, next: 'a' },
      a: { next: [{ if: 'n > 1', goto: 'b' }, { goto: 'c' }] },
      b: { say: 'B.', next: 'a' },
      c: { say: 'C.', next: [{ if: 'n', goto: 'a' }, { goto: 'ask' }] },
      d: { say: 'D.', next: 'd' },
    }),
  );
  assert.deepEqual(
    findings.map((f) => [f.severity, f.pointer, /"[^"]+"(?: -> "[^"]+")+/.exec(f.message)?.[0]]),
    [
      ['error', '/states/a/next', '"a" -> "b" -> "a"'],
      ['error', '/states/d/next', '"d" -> "d"'],
      ['warning', '/states/d', undefined],
    ],
  );
});
