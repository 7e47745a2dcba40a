/** The flow language's spoken input, slots, conditions and retries, through the compiled machine. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createActor } from 'xstate';
import {
  captureEnv,
  compileFlow,
  flowEnvNames,
  renderTemplate,
  validateFlow,
  type CallEvent,
  type Effect,
  type FlowFile,
} from '../../../src/flow/index.ts';

const PIZZA: FlowFile = {
  id: 'pizza',
  version: 1,
  start: 'greet',
  intents: {
    order: { examples: ['i want a pizza', 'can i order a pizza'] },
    operator: { examples: ['talk to a person', 'operator'], global: 'human' },
  },
  entities: { size: { values: { small: [], large: ['big', 'family size'] } } },
  states: {
    greet: {
      say: 'Welcome. What would you like?',
      on: { order: 'askSize', 'dtmf:1': 'askSize' },
      noMatchSay: ['Sorry?', 'Sorry, say order, or press 1.'],
    },
    askSize: {
      say: 'Small or large?',
      collect: { slot: 'size', entity: 'size', confirm: 'A {{size}} pizza, right?' },
      next: 'askCount',
    },
    askCount: {
      say: 'How many?',
      collect: {
        slot: 'count',
        entity: 'number',
        digits: { max: 2, terminator: '#' },
        validate: 'count >= 1 && count <= 10',
        invalidSay: 'We deliver one to ten pizzas.',
      },
      next: 'price',
    },
    price: {
      set: { summary: '{{count}} {{size}}' },
      next: [{ if: 'size == "large" && count >= 3', goto: 'discount' }, { goto: 'done' }],
    },
    discount: { say: 'A discount for {{summary}}!', next: 'done' },
    done: { say: 'Thanks. Goodbye.', hangup: true },
    human: { say: 'Connecting you.', resumeSay: 'Still connecting you.', hangup: true },
  },
  policy: { maxRetries: 2, fallback: 'human' },
};

/** Run a flow's machine, collecting effects; events get increasing timestamps. */
function run(flow: FlowFile) {
  const actor = createActor(compileFlow(flow).machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  let at = 1000;
  const send = (event: Record<string, unknown> & { type: CallEvent['type'] }) => {
    at += 100;
    actor.send({ ...event, at } as CallEvent);
  };
  send({ type: 'call.start', callId: 'CA1' });
  const says = () => effects.flatMap((e) => (e.type === 'say' ? [e] : []));
  const lastSay = () => says().at(-1)?.text;
  const played = () => {
    const say = says().at(-1);
    assert.ok(say);
    send({ type: 'played', mark: say.mark });
  };
  const utter = (text: string, intent: string | null, entities: Record<string, string> = {}) =>
    send({ type: 'utterance', text, intent, confidence: intent ? 1 : 0, entities });
  const dtmf = (keys: string) => {
    for (const digit of keys) send({ type: 'dtmf', digit });
  };
  const noInput = () => {
    const timer = [...effects].reverse().find((e) => e.type === 'timer.start');
    assert.ok(timer && timer.type === 'timer.start');
    send({ type: 'timer', id: timer.id });
  };
  const ctx = () => actor.getSnapshot().context;
  return { actor, effects, send, says, lastSay, played, utter, dtmf, noInput, ctx };
}

test('the example flow is valid', () => {
  const result = validateFlow(PIZZA);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.findings));
});

test('an intent leads on; an entity fills the slot; a read-back confirmed with yes moves on', () => {
  const call = run(PIZZA);
  call.played();
  call.utter('i want a pizza', 'order');
  assert.equal(call.ctx().state, 'askSize');
  call.played();
  call.utter('a big one', null, { size: 'large' });
  assert.equal(call.ctx().state, 'askSize', 'waits for the yes');
  assert.equal(call.ctx().confirming, true);
  assert.equal(call.lastSay(), 'A large pizza, right?');
  call.played();
  call.utter('yes', 'yes');
  assert.equal(call.ctx().state, 'askCount');
  assert.equal(call.ctx().slots.size, 'large');
});

test('no to the read-back forgets the value and asks again; 1 on the keypad confirms', () => {
  const call = run(PIZZA);
  call.dtmf('1');
  call.utter('small', null, { size: 'small' });
  call.utter('no', 'no');
  assert.equal(call.ctx().state, 'askSize');
  assert.equal(call.ctx().confirming, false);
  assert.equal(call.ctx().slots.size, undefined);
  assert.equal(call.lastSay(), 'Small or large?');
  call.utter('large', null, { size: 'large' });
  call.dtmf('1');
  assert.equal(call.ctx().state, 'askCount');
});

test('a value failing validation is a no-match announced by invalidSay; keys or speech both fill a slot', () => {
  const call = run(PIZZA);
  call.dtmf('1');
  call.utter('large', null, { size: 'large' });
  call.utter('yes', 'yes');
  call.utter('twenty', null, { number: '20' });
  assert.equal(call.ctx().state, 'askCount');
  assert.equal(call.lastSay(), 'We deliver one to ten pizzas. How many?');
  assert.equal(call.ctx().retries, 1);
  call.dtmf('3#');
  assert.equal(call.ctx().slots.count, '3');
});

test('a decision state sets slots and takes the first choice whose condition holds', () => {
  const call = run(PIZZA);
  call.dtmf('1');
  call.utter('large', null, { size: 'large' });
  call.utter('yes', 'yes');
  call.utter('three', null, { number: '3' });
  assert.equal(call.ctx().state, 'discount');
  assert.equal(call.lastSay(), 'A discount for 3 large!');
  call.played();
  assert.equal(call.ctx().state, 'done');

  const small = run(PIZZA);
  small.dtmf('1');
  small.utter('small', null, { size: 'small' });
  small.utter('yes', 'yes');
  small.dtmf('5#');
  assert.equal(small.ctx().state, 'done', 'the else choice');
});

test('a global intent works from any waiting state, even one collecting', () => {
  const call = run(PIZZA);
  call.dtmf('1');
  call.utter('operator', 'operator');
  assert.equal(call.ctx().state, 'human');
  assert.equal(call.effects.at(-1)?.type, 'hangup');
});

test('no-match prompts escalate, the last one repeating; then the fallback', () => {
  const call = run(PIZZA);
  call.utter('blah', null);
  assert.equal(call.lastSay(), 'Sorry? Welcome. What would you like?');
  call.utter('blah', null);
  assert.equal(call.lastSay(), 'Sorry, say order, or press 1. Welcome. What would you like?');
  call.utter('blah', null);
  assert.equal(call.ctx().state, 'human', 'maxRetries 2, then the fallback');
});

test('"repeat" says the prompt again without counting a retry', () => {
  const call = run(PIZZA);
  call.dtmf('1');
  call.utter('say that again', 'repeat');
  assert.equal(call.lastSay(), 'Small or large?');
  assert.equal(call.ctx().retries, 0);
  assert.equal(call.says().length, 3);
});

test('no input during a read-back repeats the read-back after the apology', () => {
  const call = run(PIZZA);
  call.dtmf('1');
  call.utter('large', null, { size: 'large' });
  call.played();
  call.noInput();
  assert.equal(call.lastSay(), "Sorry, I didn't get anything. A large pizza, right?");
  assert.equal(call.ctx().confirming, true);
});

test("a resume says the state's resumeSay instead of its prompt", () => {
  const call = run(PIZZA);
  call.utter('operator', 'operator');
  call.send({ type: 'resume' });
  assert.equal(call.lastSay(), 'Still connecting you.');
});

test("giveUp goes to the policy's onGiveUp state", () => {
  const call = run({ ...PIZZA, policy: { ...PIZZA.policy, supervisor: { onGiveUp: 'done' } } });
  call.dtmf('1');
  call.send({ type: 'giveUp' });
  assert.equal(call.ctx().state, 'done');
  assert.equal(call.lastSay(), 'Thanks. Goodbye.');
});

test('an on-target whose conditions all fail is a no-match', () => {
  const flow: FlowFile = {
    id: 'gate',
    version: 1,
    start: 'ask',
    states: {
      ask: { say: 'Press 1.', on: { 'dtmf:1': [{ if: 'vip', goto: 'vip' }] } },
      vip: { say: 'Welcome back.', hangup: true },
    },
  };
  const call = run(flow);
  call.dtmf('1');
  assert.equal(call.ctx().state, 'ask');
  assert.equal(call.ctx().retries, 1);
});

test('templates read only a slot of that name, never an inherited property', () => {
  assert.equal(renderTemplate('[{{constructor}}][{{size}}]', { size: 'large' }), '[][large]');
});

test('date and time filters read values naturally; other values are left alone', () => {
  const slots = {
    day: '2026-12-01',
    leap: '2028-02-29',
    bad: '2026-02-30',
    at: '15:30',
    nine: '09:00',
    noon: '12:00',
  };
  assert.equal(renderTemplate('{{day|date}}', slots), 'Tuesday, December 1st');
  assert.equal(renderTemplate('{{leap|date}}', slots), 'Tuesday, February 29th');
  assert.equal(renderTemplate('{{bad|date}}', slots), '2026-02-30');
  assert.equal(renderTemplate('{{at|time}}, {{nine|time}}, {{noon|time}}', slots), '3:30 PM, 9 AM, 12 noon');
  assert.equal(renderTemplate('{{day|time}}', slots), '2026-12-01');
  assert.equal(renderTemplate('the {{n|date}}', { n: '2026-11-13' }), 'the Friday, November 13th');
});

const ORDERS: FlowFile = {
  id: 'orders',
  version: 1,
  start: 'place',
  states: {
    place: {
      say: 'Placing your order.',
      set: { size: 'large' },
      http: {
        url: '{{env.ORDERS_URL}}/orders',
        headers: { Authorization: 'Bearer {{env.ORDERS_TOKEN}}' },
        body: { size: '{{size}}', count: 2, notes: ['{{size}} please'] },
        map: { orderId: '/id' },
      },
      next: [{ if: 'orderId', goto: 'placed' }, { goto: 'sorry' }],
      onError: 'sorry',
    },
    placed: { say: 'Order {{orderId}} is in.', next: 'agent' },
    agent: { say: 'Connecting you.', transfer: '{{env.SUPPORT_LINE}}', onError: 'sorry' },
    sorry: { say: 'Sorry, something went wrong.', hangup: true },
  },
};

function runWithEnv(flow: FlowFile, env: Record<string, string>) {
  const actor = createActor(compileFlow(flow).machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  let at = 1000;
  const send = (event: Record<string, unknown> & { type: CallEvent['type'] }) =>
    actor.send({ ...event, at: (at += 100) } as CallEvent);
  send({ type: 'call.start', callId: 'CA9', env });
  return { actor, effects, send, ctx: () => actor.getSnapshot().context };
}

test('an http state makes its request once the prompt is heard, with templates, env and an idempotency key', () => {
  const env = { ORDERS_URL: 'https://orders.example', ORDERS_TOKEN: 't0k', SUPPORT_LINE: '+15555550100' };
  const call = runWithEnv(ORDERS, env);
  assert.equal(
    call.effects.some((e) => e.type === 'http'),
    false,
    'not while the prompt plays',
  );
  const say = call.effects.find((e) => e.type === 'say');
  assert.ok(say?.type === 'say');
  call.send({ type: 'played', mark: say.mark });
  const http = call.effects.find((e) => e.type === 'http');
  assert.ok(http?.type === 'http');
  assert.equal(http.url, 'https://orders.example/orders');
  assert.deepEqual(http.headers, { Authorization: 'Bearer t0k' });
  assert.deepEqual(http.body, { size: 'large', count: 2, notes: ['large please'] });
  assert.equal(http.idempotencyKey, `CA9:${http.id}`);
  assert.equal(call.ctx().pending, http.id);

  call.send({ type: 'dtmf', digit: '1' });
  assert.equal(call.ctx().state, 'place', 'keys are not input while the request runs');
  call.send({ type: 'http.done', id: 'stale', status: 200, slots: { orderId: 'X' } });
  assert.equal(call.ctx().state, 'place', 'an answer to another request is ignored');
  call.send({ type: 'http.done', id: http.id, status: 201, slots: { orderId: 'A17' } });
  assert.equal(call.ctx().state, 'placed');
  assert.equal(call.ctx().slots.orderId, 'A17');
  const placed = call.effects.filter((e) => e.type === 'say').at(-1);
  assert.ok(placed?.type === 'say');
  assert.equal(placed.text, 'Order A17 is in.');
  call.send({ type: 'played', mark: placed.mark });
  const connecting = call.effects.filter((e) => e.type === 'say').at(-1);
  assert.ok(connecting?.type === 'say');
  call.send({ type: 'played', mark: connecting.mark });
  const transfer = call.effects.find((e) => e.type === 'transfer');
  assert.ok(transfer?.type === 'transfer');
  assert.equal(transfer.to, '+15555550100');
  call.send({ type: 'transfer.failed', id: transfer.id, reason: 'busy' });
  assert.equal(call.ctx().state, 'sorry');
});

test('a failed request goes to onError; a restart re-issues the request under the same key', () => {
  const call = runWithEnv(ORDERS, { ORDERS_URL: 'http://o' });
  const say = call.effects.find((e) => e.type === 'say');
  assert.ok(say?.type === 'say');
  call.send({ type: 'played', mark: say.mark });
  const first = call.effects.find((e) => e.type === 'http');
  assert.ok(first?.type === 'http');
  call.send({ type: 'resume' });
  const again = call.effects.filter((e) => e.type === 'http');
  assert.equal(again.length, 2);
  assert.equal(again[1]?.type === 'http' && again[1].idempotencyKey, first.idempotencyKey);
  call.send({ type: 'http.failed', id: first.id, reason: 'HTTP 503' });
  assert.equal(call.ctx().state, 'sorry');
});

test('flowEnvNames lists exactly the environment variables a flow reads', () => {
  assert.deepEqual(flowEnvNames(ORDERS), ['ORDERS_TOKEN', 'ORDERS_URL', 'SUPPORT_LINE']);
  assert.deepEqual(captureEnv(['A', 'B'], { A: '1', C: '3' }), { A: '1' });
});

test('a failing transfer that is its own fallback gives up instead of trying again forever', () => {
  const flow: FlowFile = {
    id: 'loop',
    version: 1,
    start: 'agent',
    states: { agent: { transfer: '+15555550100' } },
    policy: { fallback: 'agent' },
  };
  const call = runWithEnv(flow, {});
  const transfer = call.effects.find((e) => e.type === 'transfer');
  assert.ok(transfer?.type === 'transfer');
  call.send({ type: 'transfer.failed', id: transfer.id, reason: 'busy' });
  assert.equal(call.ctx().state, '$giveUp');
  assert.equal(call.effects.at(-1)?.type, 'hangup');
});

test('a state with ssml says it alongside its text, slot values escaped, an apology put inside', () => {
  const flow: FlowFile = {
    id: 'ssml',
    version: 1,
    start: 'ask',
    states: {
      ask: {
        say: 'Hello {{name}}. Press 1.',
        ssml: '<speak>Hello <emphasis>{{name}}</emphasis>. <break time="300ms"/>Press 1.</speak>',
        set: { name: 'Tom & <Jerry>' },
        on: { 'dtmf:1': 'bye' },
      },
      bye: { say: 'Bye.', hangup: true },
    },
  };
  assert.ok(validateFlow(flow).ok);
  const call = run(flow);
  const first = call.says()[0];
  assert.equal(first?.text, 'Hello Tom & <Jerry>. Press 1.');
  assert.equal(
    first?.ssml,
    '<speak>Hello <emphasis>Tom &#38; &#60;Jerry&#62;</emphasis>. <break time="300ms"/>Press 1.</speak>',
  );
  call.dtmf('7');
  assert.equal(
    call.says().at(-1)?.ssml,
    '<speak>Sorry, I didn&#39;t understand that. Hello <emphasis>Tom &#38; &#60;Jerry&#62;</emphasis>. <break time="300ms"/>Press 1.</speak>',
  );
  assert.equal(call.says().at(-1)?.text, "Sorry, I didn't understand that. Hello Tom & <Jerry>. Press 1.");
});

test('ssml must be one well-formed <speak> document, with say beside it', () => {
  const findings = (ssml: string, say: string | null = 'Hi.') =>
    validateFlow({
      id: 's',
      version: 1,
      start: 'a',
      states: { a: { ...(say === null ? {} : { say }), ssml, hangup: true } },
    });
  assert.ok(findings('<speak>Hi <break time="1s"/> there &amp; you.</speak>').ok);
  for (const [ssml, problem] of [
    ['Hi there', /one <speak>/],
    ['<speak>Hi <emphasis>there</speak>', /<\/speak> at offset \d+ closes <emphasis>/],
    ['<speak>Fish & chips</speak>', /bare "&"/],
    ['<speak>1 < 2</speak>', /"<" that starts no tag/],
  ] as const) {
    const r = findings(ssml);
    assert.equal(r.ok, false, ssml);
    assert.match(r.findings.find((f) => f.pointer === '/states/a/ssml')?.message ?? '', problem);
  }
  const noSay = findings('<speak>Hi.</speak>', null);
  assert.match(noSay.findings.map((f) => f.message).join('\n'), /ssml needs "say" too/);
});
