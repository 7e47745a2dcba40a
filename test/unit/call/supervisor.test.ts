import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CallSupervisor } from '../../../src/call/supervisor.ts';
import {
  compileFlow,
  validateFlow,
  type CompiledFlow,
  type Effect,
  type FlowFile,
} from '../../../src/flow/index.ts';
import { route, routingTable } from '../../../src/flow/route.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { CallJournal } from '../../../src/call/call-journal.ts';
import { MemoryStore } from '../../../src/journal/memory.ts';

const demo = JSON.parse(
  readFileSync(new URL('../../../flows/demo.json', import.meta.url), 'utf8'),
) as unknown;

/** The demo flow, with a guard that throws whenever key 9 is pressed: a bug in the call's logic. */
function faultyDemo(policy: FlowFile['policy'] = {}): CompiledFlow {
  const result = validateFlow(demo);
  assert.ok(result.ok);
  const compiled = compileFlow({ ...result.flow, policy: { ...result.flow.policy, ...policy } });
  const table = routingTable(compiled.flow, compiled.policy);
  const machine = compiled.machine.provide({
    guards: {
      // Asked for every input the state keeps (a retry, a digit): key 9 makes it throw.
      stays: ({ context, event }, params: { state: string }) => {
        if (event.type === 'dtmf' && event.digit === '9') throw new Error('guard exploded');
        return route(table, params.state, context, event).kind === 'stay';
      },
    },
  });
  return { ...compiled, machine };
}

function supervise(compiled: CompiledFlow) {
  const { logger, records } = memoryLogger();
  const effects: Effect[] = [];
  const gaveUp: string[] = [];
  let now = 0;
  const store = new MemoryStore();
  const journal = new CallJournal(store, store.lease('CA1', 'test'), 0);
  const sup = new CallSupervisor({
    compiled,
    callId: 'CA1',
    journal,
    logger,
    onEffect: (e) => effects.push(e),
    onGiveUp: (err) => gaveUp.push(err.code),
    now: () => now,
  });
  sup.start(
    0,
    {},
    { flow: compiled.flow.id, flowVersion: compiled.flow.version, modelVersion: null, params: {} },
  );
  const tick = (ms: number) => (now += ms);
  /** Deliver an event and wait until it is journaled and handled. */
  const send = async (event: Parameters<CallSupervisor['send']>[0]) => {
    sup.send(event);
    await sup.settled();
  };
  return { sup, effects, gaveUp, records, tick, send, journal };
}

test('an actor that throws is restarted from its last good state and repeats its prompt', async () => {
  const { sup, effects, records, send } = supervise(faultyDemo());
  await sup.settled();
  const firstSay = effects.find((e) => e.type === 'say');
  assert.ok(firstSay && firstSay.type === 'say');
  await send({ type: 'dtmf', at: 10, digit: '9' });
  assert.equal(sup.restarts, 1);
  assert.equal(sup.running, true);
  assert.equal(sup.context?.state, 'menu');
  const says = effects.filter((e) => e.type === 'say');
  assert.equal(says.length, 2, 'the prompt is said again after the restart');
  assert.equal((says[1] as { text: string }).text, firstSay.text);
  assert.ok(records.some((r) => r.msg === 'call actor failed' && r.level === 'error'));
  // The restarted actor still works.
  await send({ type: 'dtmf', at: 20, digit: '1' });
  assert.equal(sup.context?.state, 'hours');
});

test('past the restart intensity the supervisor gives up', async () => {
  const { sup, gaveUp, tick, send } = supervise(
    faultyDemo({ supervisor: { maxRestarts: 2, withinMs: 10_000 } }),
  );
  await send({ type: 'dtmf', at: 1, digit: '9' });
  tick(100);
  await send({ type: 'dtmf', at: 2, digit: '9' });
  assert.equal(gaveUp.length, 0);
  tick(100);
  await send({ type: 'dtmf', at: 3, digit: '9' });
  assert.deepEqual(gaveUp, ['CALL_GAVE_UP']);
  assert.equal(sup.running, false);
});

test('past the intensity, a flow with onGiveUp goes there instead of ending the call', async () => {
  const { sup, gaveUp, effects, records, send } = supervise(
    faultyDemo({ supervisor: { maxRestarts: 1, withinMs: 10_000, onGiveUp: 'goodbye' } }),
  );
  await send({ type: 'dtmf', at: 1, digit: '9' });
  await send({ type: 'dtmf', at: 2, digit: '9' });
  assert.deepEqual(gaveUp, [], 'the call goes on');
  assert.equal(sup.context?.state, 'goodbye');
  const last = effects.filter((e) => e.type === 'say').at(-1);
  assert.match((last as { text: string }).text, /Thanks for calling\. Goodbye\./);
  assert.equal(effects.at(-1)?.type, 'hangup');
  assert.ok(records.some((r) => r.msg.includes('onGiveUp') && r.onGiveUp === 'goodbye'));
});

test('a failure in the onGiveUp state ends the call', async () => {
  // onGiveUp leads back to the menu, where key 9 fails again.
  const { sup, gaveUp, send } = supervise(
    faultyDemo({ supervisor: { maxRestarts: 0, withinMs: 10_000, onGiveUp: 'menu' } }),
  );
  await send({ type: 'dtmf', at: 1, digit: '9' });
  assert.deepEqual(gaveUp, []);
  assert.equal(sup.context?.state, 'menu');
  await send({ type: 'dtmf', at: 2, digit: '9' });
  assert.deepEqual(gaveUp, ['CALL_GAVE_UP']);
  assert.equal(sup.running, false);
});

test('restarts outside the window do not count towards the intensity', async () => {
  const { sup, gaveUp, tick, send } = supervise(
    faultyDemo({ supervisor: { maxRestarts: 1, withinMs: 1000 } }),
  );
  for (let i = 0; i < 5; i++) {
    await send({ type: 'dtmf', at: i, digit: '9' });
    tick(2000);
  }
  assert.equal(gaveUp.length, 0);
  assert.equal(sup.running, true);
});

test('the end of the conversation stops supervision', async () => {
  const { sup, send } = supervise(faultyDemo());
  await send({ type: 'hangup', at: 5, reason: 'test' });
  assert.equal(sup.running, false);
});

test('a call whose logic keeps failing is given up on while another call of the same flow goes on untouched', async () => {
  const compiled = faultyDemo({ supervisor: { maxRestarts: 1, withinMs: 10_000 } });
  const failing = supervise(compiled);
  const healthy = supervise(compiled);
  await healthy.send({ type: 'dtmf', at: 1, digit: '2' });
  await failing.send({ type: 'dtmf', at: 1, digit: '9' });
  await failing.send({ type: 'dtmf', at: 2, digit: '9' });
  assert.deepEqual(failing.gaveUp, ['CALL_GAVE_UP']);
  assert.equal(healthy.gaveUp.length, 0);
  assert.equal(healthy.sup.restarts, 0);
  assert.equal(healthy.sup.context?.state, 'callback');
  for (const digit of '5551234#') await healthy.send({ type: 'dtmf', at: 3, digit });
  assert.equal(healthy.sup.context?.state, 'confirm');
  assert.equal(healthy.sup.context?.slots.callback, '5551234');
});
