/**
 * A call placed through Twilio's REST API, here the local fake of it reached with the real `twilio` client over
 * TWILIO_API_URL: the fake calls the server's voice webhook and status callback with signed requests, as Twilio
 * would, and the stream its TwiML names runs the flow as an outbound call.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readJournal } from '../../src/call/call-journal.ts';
import { readTwiml } from '../../src/simulator/twiml-reader.ts';
import { lazyRestClient } from '../../src/telephony/rest-client.ts';
import { signTwilioRequest } from '../../src/telephony/signature.ts';
import { FakeTwilioApiServer } from '../fakes/twilio-api/index.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { RawStream, startServer, waitForLog, type TestServer } from '../support/harness.ts';

const ACCOUNT = 'AC' + '7'.repeat(32);
const TOKEN = 'outbound-test-token';
const CALLEE = '+15550007777';
const OURS = '+15550008888';

let server: TestServer;
let twilio: FakeTwilioApiServer;

before(async () => {
  server = await startServer({ authToken: TOKEN, tts: new ToneTts({ msPerChar: 4 }) });
  twilio = new FakeTwilioApiServer({ accountSid: ACCOUNT, authToken: TOKEN });
  await twilio.start();
});

after(async () => {
  await twilio.close();
  await server.close();
});

test('a call placed through the REST API runs its flow as outbound, its callbacks signed and taken', async () => {
  const client = lazyRestClient({ accountSid: ACCOUNT, authToken: TOKEN, apiUrl: twilio.url }, 10_000)();
  const created = await client.calls.create({
    to: CALLEE,
    from: OURS,
    url: `${server.url}/twilio/voice?flow=demo`,
    statusCallback: `${server.url}/twilio/status`,
    statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
  });
  assert.match(created.sid, /^CA[0-9a-f]{32}$/);
  const voice = await twilio.waitFor(
    (e) => e.type === 'webhook' && e.webhook.kind === 'voice' && e.webhook.callSid === created.sid,
    5000,
  );
  assert.ok(voice.type === 'webhook');
  assert.equal(voice.webhook.status, 200, 'the signed voice webhook was taken');
  const connect = readTwiml(voice.webhook.body).connect;
  assert.ok(connect, voice.webhook.body);
  assert.equal(connect.parameters.direction, 'outbound');

  // The media stream Twilio would open for that TwiML, its upgrade signed over the stream URL.
  const stream = new RawStream(connect.streamUrl, created.sid, {
    'x-twilio-signature': signTwilioRequest(TOKEN, connect.streamUrl, {}),
  });
  await stream.opened;
  stream.send(stream.enc.connected());
  stream.send(stream.enc.start(connect.parameters));
  await stream.waitFor((m) => m.includes('"event":"mark"'));
  const started = (await readJournal(server.journals.store, created.sid)).find(
    (r) => r.kind === 'in' && r.event.type === 'call.start',
  );
  assert.deepEqual(started?.kind === 'in' && started.event.call, {
    direction: 'outbound',
    from: OURS,
    to: CALLEE,
  });

  // The callee hangs up: the stream stops, Twilio reports the call completed, and the journal is closed.
  stream.send(stream.enc.stop());
  await stream.closed;
  await twilio.complete(created.sid);
  const statuses = twilio.webhooksFor(created.sid, 'status');
  assert.deepEqual(
    statuses.map((w) => w.params.CallStatus),
    ['initiated', 'ringing', 'in-progress', 'completed'],
  );
  assert.ok(
    statuses.every((w) => w.status === 204),
    'every signed status callback was taken',
  );
  await waitForLog(server.records, (r) => r.msg === 'call status' && r.status === 'completed');
  assert.equal((await server.journals.store.summary(created.sid))?.ended, true);
});
