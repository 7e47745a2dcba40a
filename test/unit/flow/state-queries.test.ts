/** What the call layer asks of a state through the actions table, instead of reading its keys. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  endOfTurnMs,
  expectedInput,
  interrupts,
  stateFacts,
  type StateDef,
} from '../../../src/flow/index.ts';

test('expected input: the intents an `on` names (not its keys), the entity and digits a `collect` takes', () => {
  assert.deepEqual(expectedInput({ on: { 'dtmf:1': 'a', agent: 'b' } }), { intents: ['agent'] });
  const collect: StateDef = { collect: { slot: 'n', entity: 'digits', digits: { max: 4 } }, next: 'x' };
  assert.deepEqual(expectedInput(collect), { intents: [], entity: 'digits', digits: { max: 4 } });
  assert.deepEqual(expectedInput({ say: 'Hi.', next: 'x' }), { intents: [] });
});

test('end of turn, barge-in and what a state does, as its actions say', () => {
  assert.equal(endOfTurnMs({ endOfTurnMs: 1500, on: { yes: 'a' } }), 1500);
  assert.equal(endOfTurnMs({ on: { yes: 'a' } }), undefined);
  assert.equal(interrupts({ say: 'x' }, 'speech'), true);
  assert.equal(interrupts({ say: 'x', bargeIn: 'dtmf' }, 'speech'), false);
  assert.equal(interrupts({ say: 'x', bargeIn: 'dtmf' }, 'dtmf'), true);
  assert.equal(interrupts({ say: 'x', bargeIn: false }, 'dtmf'), false);
  assert.deepEqual(stateFacts({ say: 'x', http: { url: 'https://a.test' }, next: 'y' }), {
    waits: false,
    acts: true,
    ends: false,
    collects: true,
    branches: false,
  });
});
