/** Every example flow, driven end to end over the Media Streams protocol by the simulated caller on the keypad. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { placeCall, type CallerInput } from '../../src/simulator/caller.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { startServer, type TestServer } from './harness.ts';

const keys = (...presses: string[]): CallerInput[] => presses.map((k) => ({ kind: 'dtmf', keys: k }));

describe('example flows over a real server and the simulated caller', { concurrency: true }, () => {
  let server: TestServer;
  before(async () => {
    // Short tones stand in for speech: what is tested is where each key leads, in real time.
    server = await startServer({ tts: new ToneTts({ msPerChar: 4 }) });
  });
  after(async () => {
    await server.close();
  });

  /** Place a call on `flow` pressing `inputs`; resolves with the state the call ended in and who ended it. */
  async function run(flow: string, inputs: CallerInput[]) {
    const result = await placeCall({ url: server.url, flow, inputs, thinkMs: 100, idleHangupMs: 1500 });
    const ended = server.records.find((r) => r.msg === 'call ended' && r.callId === result.callSid);
    const started = server.records.find((r) => r.msg === 'call started' && r.callId === result.callSid);
    return { result, state: ended?.state, flow: started?.flow, marks: result.marks };
  }

  test('every example flow is loaded', () => {
    assert.deepEqual([...server.flows.flows.keys()].sort(), ['appointment', 'demo', 'pizza']);
  });

  test('pizza: 1 to order, 3 for large, 4 pizzas, 1 to confirm: the discount, then the order is placed', async () => {
    const { result, state, flow, marks } = await run('pizza', keys('1', '3', '4#', '1'));
    assert.equal(flow, 'pizza');
    assert.equal(state, 'placed');
    assert.equal(result.endedBy, 'agent');
    assert.deepEqual(
      marks.map((m) => m.replace(/\.\d+$/, '')),
      ['greet', 'size', 'count', 'confirm', 'discount', 'placed'],
    );
  });

  test('pizza: 12 pizzas is refused and asked again; 0 reaches a person', async () => {
    const refused = await run('pizza', keys('1', '1', '12', '2#', '2', '0'));
    // 12 is over the limit (retry), 2# is accepted, 2 starts again at the size, and 0 is no size: a no-match.
    assert.deepEqual(
      refused.marks.map((m) => m.replace(/\.\d+$/, '')),
      ['greet', 'size', 'count', 'count', 'confirm', 'size', 'size'],
    );
    const human = await run('pizza', keys('0'));
    assert.equal(human.state, 'human');
  });

  test('appointment: a date and a time in opening hours are booked', async () => {
    const { state, marks } = await run('appointment', keys('20261201', '1', '1030'));
    assert.equal(state, 'booked');
    assert.deepEqual(
      marks.map((m) => m.replace(/\.\d+$/, '')),
      ['day', 'day', 'time', 'booked'],
    );
  });

  test('demo: the callback number is read back and confirmed', async () => {
    const { state } = await run('demo', keys('2', '5551234#', '1'));
    assert.equal(state, 'thanks');
  });
});
