/** Sub-flows: expanded into one copy per calling state, checked with pointers into the file, run as plain states. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createActor } from 'xstate';
import {
  compileFlow,
  expandSubflows,
  validateFlow,
  type CallEvent,
  type Effect,
  type FlowFile,
} from '../../../src/flow/index.ts';
import { flowGraph } from '../../../src/flow/graph.ts';

const ADDRESS: FlowFile = {
  id: 'addresses',
  version: 1,
  start: 'home',
  subflows: {
    address: {
      start: 'street',
      states: {
        street: { say: 'Street number?', collect: { slot: 'street', digits: { max: 3 } }, next: 'zip' },
        zip: {
          say: 'Zip code?',
          collect: { slot: 'zip', digits: { max: 5 } },
          next: [{ if: 'zip == "00000"', goto: 'street' }, { goto: '$return' }],
        },
      },
    },
  },
  states: {
    home: { call: 'address', set: { kind: 'home' }, next: 'work' },
    work: {
      call: 'address',
      set: { kind: 'work' },
      next: [{ if: 'zip == "12345"', goto: 'near' }, { goto: 'far' }],
    },
    near: { say: 'Near, {{kind}} at {{street}} {{zip}}.', hangup: true },
    far: { say: 'Far, {{kind}} at {{street}} {{zip}}.', hangup: true },
  },
};

test('each calling state gets its own copy, entered from the calling state', () => {
  const states = expandSubflows(ADDRESS).states;
  assert.deepEqual(Object.keys(states), [
    'home',
    'home--street',
    'home--zip',
    'work',
    'work--street',
    'work--zip',
    'near',
    'far',
  ]);
  assert.deepEqual(states.home, { set: { kind: 'home' }, next: 'home--street' });
  assert.deepEqual(states.work, { set: { kind: 'work' }, next: 'work--street' });
  assert.equal(states['home--street']?.next, 'home--zip');
  assert.equal(states['work--street']?.next, 'work--zip');
  assert.equal(expandSubflows(ADDRESS).subflows, undefined);
  // The copies are independent objects: changing one leaves the sub-flow and the other copy alone.
  states['home--street'].say = 'changed';
  assert.equal(states['work--street']?.say, 'Street number?');
  assert.equal(ADDRESS.subflows?.address?.states.street?.say, 'Street number?');
});

test('"$return" goes to each caller\'s next; a conditional next is merged into the choices', () => {
  const states = expandSubflows(ADDRESS).states;
  assert.deepEqual(states['home--zip']?.next, [
    { if: 'zip == "00000"', goto: 'home--street' },
    { goto: 'work' },
  ]);
  assert.deepEqual(states['work--zip']?.next, [
    { if: 'zip == "00000"', goto: 'work--street' },
    { if: 'zip == "12345"', goto: 'near' },
    { goto: 'far' },
  ]);
});

test('a conditional "$return" before other choices keeps them from a caller whose choices may all fail', () => {
  const flow: FlowFile = {
    id: 'guard',
    version: 1,
    start: 'a',
    subflows: {
      s: {
        start: 'd',
        states: {
          d: { next: [{ if: 'x', goto: '$return' }, { goto: 'e' }] },
          e: { say: 'E.', next: '$return' },
        },
      },
    },
    states: {
      a: { set: { x: '1' }, call: 's', next: [{ if: 'y', goto: 'b' }] },
      b: { say: 'B.', hangup: true },
    },
  };
  assert.deepEqual(expandSubflows(flow).states['a--d']?.next, [
    { if: '(x) && (y)', goto: 'b' },
    { if: '!(x)', goto: 'a--e' },
  ]);
  assert.deepEqual(expandSubflows(flow).states['a--e']?.next, [{ if: 'y', goto: 'b' }]);
});

test('a flow without sub-flows is left as it is', () => {
  const flow: FlowFile = { id: 'x', version: 1, start: 'a', states: { a: { say: 'Bye.', hangup: true } } };
  assert.equal(expandSubflows(flow), flow);
});

test('the sub-flow example is valid without findings', () => {
  const result = validateFlow(ADDRESS);
  assert.ok(result.ok, JSON.stringify(result.findings));
  assert.deepEqual(result.findings, []);
});

const withSub = (sub: unknown, states: Record<string, unknown> = ADDRESS.states): unknown => ({
  ...ADDRESS,
  subflows: { address: sub },
  states,
});

test('structural findings point into the sub-flow', () => {
  const errors = (flow: unknown) =>
    validateFlow(flow)
      .findings.filter((f) => f.severity === 'error')
      .map((f) => [f.pointer, f.message]);
  const sub = structuredClone(ADDRESS.subflows!.address!);
  sub.states.zip!.next = 'far';
  assert.deepEqual(errors(withSub(sub)), [
    ['/subflows/address/states/zip/next', 'unknown state "far" in sub-flow "address"'],
  ]);
  const nested = structuredClone(ADDRESS.subflows!.address!) as { states: Record<string, object> };
  nested.states.street = { call: 'address', set: { street: '1' }, next: 'zip' };
  assert.deepEqual(
    errors(withSub(nested)).map(([p]) => p),
    ['/subflows/address/states/street/call'],
  );
  const states = structuredClone(ADDRESS.states) as Record<string, Record<string, unknown>>;
  states.home!.say = 'Hello.';
  states['my--state'] = { say: 'Hi.', next: 'far' };
  assert.deepEqual(
    errors(withSub(ADDRESS.subflows!.address!, states)).map(([p]) => p),
    ['/states/home/say', '/states/my--state'],
  );
});

test('static findings on a copy point into the sub-flow and name the calling state', () => {
  // "kind" is set by work but not by home, so home's copy may speak it before it is set.
  const states = structuredClone(ADDRESS.states) as Record<string, Record<string, unknown>>;
  delete states.home!.set;
  const sub = structuredClone(ADDRESS.subflows!.address!);
  sub.states.street!.say = 'Street number for your {{kind}} address?';
  const result = validateFlow(withSub(sub, states));
  assert.equal(result.ok, false);
  const errors = result.findings.filter((f) => f.severity === 'error');
  assert.equal(errors.length, 1, JSON.stringify(result.findings));
  assert.equal(errors[0]?.pointer, '/subflows/address/states/street/say');
  assert.match(errors[0]?.message ?? '', /slot "kind".*called from "home"/);
});

test('a merged choice list points at the target, not at a choice index the file does not have', () => {
  const sub = structuredClone(ADDRESS.subflows!.address!);
  sub.states.zip!.next = [
    { if: 'zip == "00000"', goto: 'street' },
    { if: 'later', goto: '$return' },
  ];
  const states = structuredClone(ADDRESS.states) as Record<string, Record<string, unknown>>;
  states.later = { set: { later: 'yes' }, next: 'far' };
  const pointers = validateFlow(withSub(sub, states)).findings.map((f) => f.pointer);
  // "later" is read in both copies before it is set; the work copy's merged list has no choice 1 of its own.
  assert.ok(pointers.includes('/subflows/address/states/zip/next/1/if'), JSON.stringify(pointers));
  assert.ok(pointers.includes('/subflows/address/states/zip/next'), JSON.stringify(pointers));
  assert.ok(!pointers.some((p) => p.startsWith('/states/work--')), JSON.stringify(pointers));
});

test('a sub-flow nobody calls is a warning', () => {
  const result = validateFlow({
    ...ADDRESS,
    subflows: { ...ADDRESS.subflows, spare: ADDRESS.subflows!.address! },
  });
  assert.ok(result.ok);
  assert.deepEqual(
    result.findings.map((f) => [f.severity, f.pointer]),
    [['warning', '/subflows/spare']],
  );
});

test('the graph draws each copy', () => {
  const mermaid = flowGraph(ADDRESS, 'mermaid');
  for (const name of ['home--street', 'home--zip', 'work--street', 'work--zip'])
    assert.ok(mermaid.includes(name), name);
});

test("a call walks the sub-flow twice, returning to each caller's next", () => {
  const actor = createActor(compileFlow(ADDRESS).machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  let at = 1000;
  const send = (event: Record<string, unknown> & { type: CallEvent['type'] }) => {
    at += 100;
    actor.send({ ...event, at } as CallEvent);
  };
  const says = () => effects.flatMap((e) => (e.type === 'say' ? [e] : []));
  const played = () => send({ type: 'played', mark: says().at(-1)!.mark });
  const dtmf = (keys: string) => {
    for (const digit of keys) send({ type: 'dtmf', digit });
  };
  const state = () => actor.getSnapshot().context.state;
  send({ type: 'call.start', callId: 'CA1' });
  assert.equal(state(), 'home--street');
  assert.match(says().at(-1)!.mark, /^home--street\./);
  played();
  dtmf('123');
  assert.equal(state(), 'home--zip');
  played();
  dtmf('00000');
  assert.equal(state(), 'home--street', 'the sub-flow loops within its own copy');
  played();
  dtmf('124');
  played();
  dtmf('99999');
  assert.equal(state(), 'work--street', 'home returns to its next, which calls again');
  assert.equal(actor.getSnapshot().context.slots.kind, 'work');
  played();
  dtmf('7');
  assert.equal(state(), 'work--street', 'waits for the rest of the digits');
  dtmf('00');
  played();
  dtmf('12345');
  assert.equal(state(), 'near');
  assert.equal(says().at(-1)?.text, 'Near, work at 700 12345.');
});
