/** Every example flow, driven end to end over the Media Streams protocol by the simulated caller on the keypad. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryLogger } from '../../src/observability/logger.ts';
import { placeCall, type CallerInput } from '../../src/simulator/caller.ts';
import { CallControl } from '../../src/telephony/call-control.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { RecordingTwilioHttpClient } from '../fakes/twilio-rest.ts';
import { EXAMPLE_FLOWS } from '../fixtures/example-flows.ts';
import { startServer, type TestServer } from '../support/harness.ts';

const ACCOUNT = 'AC' + '0'.repeat(32);

/** A test double for the pizzeria's and the billing system's web services, on a real local port. */
async function services(): Promise<{
  server: Server;
  url: string;
  requests: { method: string; path: string; key: string; body: string }[];
}> {
  const requests: { method: string; path: string; key: string; body: string }[] = [];
  const read = async (req: IncomingMessage): Promise<string> => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    return body;
  };
  const server = createServer((req, res) => {
    void read(req).then((body) => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        key: String(req.headers['idempotency-key']),
        body,
      });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/orders') res.end(JSON.stringify({ id: 'A17', readyInMinutes: 25 }));
      else if (req.url === '/accounts/1234567') res.end(JSON.stringify({ balance: 12.5, due: '2026-12-15' }));
      else if (req.url === '/refills') res.end(JSON.stringify({ readyBy: 'four pm' }));
      else res.writeHead(404).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const keys = (...presses: string[]): CallerInput[] => presses.map((k) => ({ kind: 'dtmf', keys: k }));

describe('example flows over a real server and the simulated caller', { concurrency: true }, () => {
  let server: TestServer;
  let web: Awaited<ReturnType<typeof services>>;
  const twilio = new RecordingTwilioHttpClient();
  before(async () => {
    web = await services();
    const callControl = new CallControl({
      accountSid: ACCOUNT,
      authToken: 'token',
      logger: memoryLogger().logger,
      httpClient: twilio,
    });
    // Short tones stand in for speech: what is tested is where each key leads, in real time.
    server = await startServer({
      tts: new ToneTts({ msPerChar: 4 }),
      callControl,
      // The flows' services are test doubles on this machine: allowed here, refused by default.
      httpAllowHosts: ['127.0.0.1'],
      env: {
        ORDERS_URL: web.url,
        BILLING_URL: web.url,
        PIZZA_STAFF_LINE: '+15555550100',
        SUPPORT_LINE: '+15555550199',
        PHARMACY_URL: web.url,
        PHARMACY_STAFF_LINE: '+15555550123',
      },
    });
  });
  after(async () => {
    await server.close();
    web.server.close();
  });

  /** The numbers the recorded Twilio REST requests for this call dialled. */
  const dialled = (callSid: string): string[] =>
    twilio.requests
      .filter((r) => r.uri.endsWith(`/Calls/${callSid}.json`))
      .map((r) => /<Number>([^<]+)<\/Number>/.exec(String(r.data.Twiml))?.[1] ?? '?');

  /** Place a call on `flow` pressing `inputs`; resolves with the state the call ended in and who ended it. */
  async function run(flow: string, inputs: CallerInput[]) {
    const result = await placeCall({ url: server.url, flow, inputs, thinkMs: 100, idleHangupMs: 1500 });
    const ended = server.records.find((r) => r.msg === 'call ended' && r.callId === result.callSid);
    const started = server.records.find((r) => r.msg === 'call started' && r.callId === result.callSid);
    return { result, state: ended?.state, flow: started?.flow, marks: result.marks };
  }

  test('every example flow is loaded: none is refused', () => {
    assert.deepEqual([...server.flows.flows.keys()].sort(), [...EXAMPLE_FLOWS].sort());
    assert.deepEqual(
      server.records.filter((r) => r.msg === 'flow refused').map((r) => r.file),
      [],
    );
  });

  test('pizza: 1 to order, 3 for large, 4 pizzas, 1 to confirm: the order is posted, a discount, goodbye', async () => {
    const { result, state, flow, marks } = await run('pizza', keys('1', '3', '4#', '1'));
    assert.equal(flow, 'pizza');
    assert.equal(state, 'placed');
    assert.equal(result.endedBy, 'agent');
    assert.deepEqual(
      marks.map((m) => m.replace(/\.\d+$/, '')),
      ['greet', 'size', 'count', 'confirm', 'discount', 'placed'],
    );
    const order = web.requests.find((r) => r.path === '/orders' && r.key.startsWith(result.callSid));
    assert.ok(order, 'the order reached the service with the call in its idempotency key');
    assert.deepEqual(JSON.parse(order.body), { size: 'large', count: '4' });
  });

  test('pizza: 0 transfers the caller to the staff line through the Twilio REST API', async () => {
    const { result, state } = await run('pizza', keys('0'));
    assert.equal(state, 'human');
    assert.deepEqual(dialled(result.callSid), ['+15555550100']);
    const ended = server.records.find((r) => r.msg === 'call ended' && r.callId === result.callSid);
    assert.equal(ended?.reason, 'transferred', "the stream's end is the hand-over, not a hang-up");
  });

  test('support: an account looked up on the web reads its balance; an unknown one goes to a person', async () => {
    const owes = await run('support', keys('1', '1234567#', '1'));
    assert.equal(owes.state, 'goodbye');
    assert.deepEqual(
      owes.marks.map((m) => m.replace(/\.\d+$/, '')),
      ['greet', 'account', 'account', 'owes', 'goodbye'],
    );
    const unknown = await run('support', keys('1', '7654321#', '1'));
    assert.equal(unknown.state, 'agent');
    assert.deepEqual(dialled(unknown.result.callSid), ['+15555550199']);
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

  test('pharmacy: a 7-digit prescription, read back and confirmed, delivered to a ZIP code', async () => {
    const { result, state, marks } = await run('pharmacy', keys('1', '1234567', '1', '2', '90210'));
    assert.equal(state, 'done');
    assert.deepEqual(
      marks.map((m) => m.replace(/\.\d+$/, '')),
      ['greet', 'rx', 'rx', 'method', 'zip', 'done'],
    );
    const refill = web.requests.find((r) => r.path === '/refills' && r.key.startsWith(result.callSid));
    assert.deepEqual(JSON.parse(refill?.body ?? '{}'), { rx: '1234567', method: 'delivery', zip: '90210' });
    const pickup = await run('pharmacy', keys('1', '7654321', '1', '1'));
    assert.equal(pickup.state, 'done');
  });

  test('demo: the callback number is read back and confirmed', async () => {
    const { state } = await run('demo', keys('2', '5551234#', '1'));
    assert.equal(state, 'thanks');
  });
});
