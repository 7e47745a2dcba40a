import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type TwilioClient from 'twilio/lib/rest/Twilio.js';
import type RequestClientType from 'twilio/lib/base/RequestClient.js';
import {
  FakeTwilioApiServer,
  type FakeTwilioEvent,
  type FakeWebhook,
  type FakeWebhookKind,
} from '../../fakes/twilio-api/index.ts';

const require = createRequire(import.meta.url);
const Twilio = require('twilio/lib/rest/Twilio.js') as typeof TwilioClient;
const RequestClient = require('twilio/lib/base/RequestClient.js') as typeof RequestClientType;

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'fake-api-auth-token';
const FROM = '+15555550100';
const CALLEE = '+15555550123';
const CALL_SID = /^CA[0-9a-f]{32}$/;
const STREAM_TWIML =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://switchboard.test/twilio/media"/></Connect></Response>';
const REDIRECT_TWIML = '<Response><Say>One moment.</Say><Hangup/></Response>';
const ALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

/** The real twilio RequestClient, sending to the fake instead of https://api.twilio.com. */
class LocalRequestClient extends RequestClient {
  readonly #base: string;

  constructor(base: string) {
    super({ keepAlive: false });
    this.#base = base;
  }

  override request<TData>(opts: RequestClientType.RequestOptions<TData>) {
    const uri = new URL(opts.uri);
    return super.request({ ...opts, uri: new URL(uri.pathname + uri.search, this.#base).toString() });
  }
}

/** Twilio's documented signature, computed independently of the fake. */
function referenceSignature(token: string, url: string, params: Record<string, string>): string {
  let data = url;
  for (const key of Object.keys(params).sort()) data += key + params[key];
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

interface Received {
  path: string;
  params: Record<string, string>;
  signatureValid: boolean;
}

/** The application under Twilio: checks every signature, answers TwiML on /voice and /redirect. */
async function startApp(t: TestContext) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const expected = referenceSignature(TOKEN, base + (req.url ?? ''), params);
      const path = new URL(req.url ?? '/', base).pathname;
      received.push({ path, params, signatureValid: req.headers['x-twilio-signature'] === expected });
      const twiml = path === '/voice' ? STREAM_TWIML : path === '/redirect' ? REDIRECT_TWIML : null;
      if (path === '/broken') res.writeHead(500).end('oops');
      else if (twiml === null) res.writeHead(204).end();
      else res.writeHead(200, { 'content-type': 'text/xml' }).end(twiml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { base, received };
}

async function setup(t: TestContext, stepMs?: number) {
  const fake = new FakeTwilioApiServer({ accountSid: ACCOUNT, authToken: TOKEN, stepMs });
  await fake.start();
  t.after(() => fake.close());
  const app = await startApp(t);
  const client = new Twilio(ACCOUNT, TOKEN, { httpClient: new LocalRequestClient(fake.url) });
  /** A call as the outbound feature will place it: every progress event, async AMD, all to the app. */
  const dial = (to: string) =>
    client.calls.create({
      to,
      from: FROM,
      url: `${app.base}/voice`,
      statusCallback: `${app.base}/status`,
      statusCallbackEvent: ALL_EVENTS,
      machineDetection: 'DetectMessageEnd',
      asyncAmd: 'true',
      asyncAmdStatusCallback: `${app.base}/amd`,
    });
  /** What the app received about one call, as "path status-or-answer". */
  const trace = (callSid: string) =>
    app.received
      .filter((r) => r.params.CallSid === callSid)
      .map((r) => `${r.path} ${r.params.CallStatus ?? r.params.RecordingStatus ?? r.params.AnsweredBy}`);
  return { fake, app, client, dial, trace };
}

function webhookSent(
  fake: FakeTwilioApiServer,
  callSid: string,
  kind: FakeWebhookKind,
  matches: (w: FakeWebhook) => boolean = () => true,
): Promise<FakeWebhook> {
  const isIt = (e: FakeTwilioEvent): e is Extract<FakeTwilioEvent, { type: 'webhook' }> =>
    e.type === 'webhook' && e.webhook.callSid === callSid && e.webhook.kind === kind && matches(e.webhook);
  return fake.waitFor(isIt).then((e) => e.webhook);
}

test('a human answers: progress callbacks, the voice webhook and AMD, all signed, then the callee hangs up', async (t) => {
  const { fake, app, dial, trace } = await setup(t);
  const call = await dial(CALLEE);
  assert.match(call.sid, CALL_SID);
  assert.equal(call.status, 'queued');
  assert.equal(call.direction, 'outbound-api');
  assert.equal(call.to, CALLEE);
  assert.equal(call.from, FROM);
  assert.equal(call.accountSid, ACCOUNT);
  assert.equal(call.uri, `/2010-04-01/Accounts/${ACCOUNT}/Calls/${call.sid}.json`);
  assert.ok(call.dateCreated instanceof Date && !Number.isNaN(call.dateCreated.getTime()));

  await webhookSent(fake, call.sid, 'amd');
  await fake.complete(call.sid);

  assert.deepEqual(trace(call.sid), [
    '/status initiated',
    '/status ringing',
    '/status in-progress',
    '/voice in-progress',
    '/amd human',
    '/status completed',
  ]);
  assert.ok(app.received.every((r) => r.signatureValid));
  const statuses = app.received.filter((r) => r.path === '/status').map((r) => r.params);
  assert.deepEqual(
    statuses.map((p) => p.SequenceNumber),
    ['0', '1', '2', '3'],
  );
  for (const p of statuses) {
    assert.equal(p.AccountSid, ACCOUNT);
    assert.equal(p.From, FROM);
    assert.equal(p.To, CALLEE);
    assert.equal(p.Direction, 'outbound-api');
    assert.equal(p.CallbackSource, 'call-progress-events');
    assert.equal(p.ApiVersion, '2010-04-01');
    assert.match(p.Timestamp ?? '', /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  }
  assert.match(statuses[3]?.CallDuration ?? '', /^\d+$/);
  const amd = app.received.find((r) => r.path === '/amd')?.params;
  assert.equal(amd?.AccountSid, ACCOUNT);
  assert.match(amd?.MachineDetectionDuration ?? '', /^\d+$/);
  assert.deepEqual(fake.call(call.sid)?.twiml, [STREAM_TWIML]);
  assert.equal(fake.call(call.sid)?.answeredBy, 'human');

  // Negative control: the same request under another token does not validate.
  const voice = fake.webhooksFor(call.sid, 'voice')[0];
  assert.ok(voice);
  assert.equal(voice.signature, referenceSignature(TOKEN, voice.url, voice.params));
  assert.notEqual(voice.signature, referenceSignature('another-token', voice.url, voice.params));
});

test('an answering machine: AMD reports machine_end_beep after the scripted delay; the app hangs up over REST', async (t) => {
  const { fake, client, dial, trace } = await setup(t);
  fake.script(CALLEE, { outcome: 'machine', answeredBy: 'machine_end_beep', afterMs: 30 });
  const call = await dial(CALLEE);

  const amd = await webhookSent(fake, call.sid, 'amd');
  assert.equal(amd.params.AnsweredBy, 'machine_end_beep');
  assert.equal(amd.params.MachineDetectionDuration, '30');
  const hungUp = await client.calls(call.sid).update({ status: 'completed' });
  assert.equal(hungUp.status, 'completed');
  await webhookSent(fake, call.sid, 'status', (w) => w.params.CallStatus === 'completed');

  assert.deepEqual(trace(call.sid), [
    '/status initiated',
    '/status ringing',
    '/status in-progress',
    '/voice in-progress',
    '/amd machine_end_beep',
    '/status completed',
  ]);
  const fetched = await client.calls(call.sid).fetch();
  assert.equal(fetched.status, 'completed');
  assert.equal(fetched.answeredBy, 'machine_end_beep');
  assert.match(fetched.duration, /^\d+$/);
  assert.ok(fetched.endTime instanceof Date);
});

test('synchronous AMD with Enable: the voice webhook waits for the result and carries machine_start', async (t) => {
  const { fake, app, client, trace } = await setup(t);
  fake.script(CALLEE, { outcome: 'machine', answeredBy: 'machine_end_silence', afterMs: 20 });
  const call = await client.calls.create({
    to: CALLEE,
    from: FROM,
    url: `${app.base}/voice`,
    statusCallback: `${app.base}/status`,
    statusCallbackEvent: ALL_EVENTS,
    machineDetection: 'Enable',
  });
  const voice = await webhookSent(fake, call.sid, 'voice');
  assert.equal(voice.params.AnsweredBy, 'machine_start');
  await fake.complete(call.sid);
  assert.deepEqual(trace(call.sid), [
    '/status initiated',
    '/status ringing',
    '/status in-progress',
    '/voice in-progress',
    '/status completed',
  ]);
  assert.equal(fake.webhooksFor(call.sid, 'amd').length, 0);
  assert.equal((await client.calls(call.sid).fetch()).answeredBy, 'machine_start');
});

for (const [outcome, expected] of [
  ['busy', ['/status initiated', '/status busy']],
  ['no-answer', ['/status initiated', '/status ringing', '/status no-answer']],
  ['failed', ['/status initiated', '/status failed']],
] as const) {
  test(`${outcome}: the call ends without the voice webhook, with CallStatus ${outcome}`, async (t) => {
    const { fake, app, client, dial, trace } = await setup(t);
    fake.script(CALLEE, outcome);
    const call = await dial(CALLEE);
    const last = await webhookSent(fake, call.sid, 'status', (w) => w.params.CallStatus === outcome);
    assert.equal(last.params.CallDuration, '0');
    assert.deepEqual(trace(call.sid), expected);
    assert.ok(app.received.every((r) => r.signatureValid));
    assert.equal((await client.calls(call.sid).fetch()).status, outcome);
    assert.deepEqual(fake.call(call.sid)?.twiml, []);
  });
}

test('without StatusCallbackEvent only the end is reported; inline Twiml is recorded without a webhook', async (t) => {
  const { fake, app, client, trace } = await setup(t);
  const call = await client.calls.create({
    to: CALLEE,
    from: FROM,
    twiml: STREAM_TWIML,
    statusCallback: `${app.base}/status`,
  });
  await fake.waitFor((e) => e.type === 'twiml' && e.callSid === call.sid);
  await fake.complete(call.sid);
  assert.deepEqual(trace(call.sid), ['/status completed']);
  assert.deepEqual(fake.call(call.sid)?.twiml, [STREAM_TWIML]);
});

test('a live call takes new TwiML: inline Twiml and a Url redirect are both recorded', async (t) => {
  const { fake, app, client, dial, trace } = await setup(t);
  const call = await dial(CALLEE);
  await webhookSent(fake, call.sid, 'amd');
  await client.calls(call.sid).update({ twiml: REDIRECT_TWIML });
  await client.calls(call.sid).update({ url: `${app.base}/redirect` });
  await webhookSent(fake, call.sid, 'voice', (w) => w.url.endsWith('/redirect'));
  assert.deepEqual(fake.call(call.sid)?.twiml, [STREAM_TWIML, REDIRECT_TWIML, REDIRECT_TWIML]);
  assert.deepEqual(trace(call.sid).slice(-1), ['/redirect in-progress']);

  await client.calls(call.sid).update({ status: 'completed' });
  await assert.rejects(client.calls(call.sid).update({ twiml: REDIRECT_TWIML }), {
    status: 400,
    code: 21220,
  });
});

test('a voice webhook that fails ends the call, as Twilio hangs up on an application error', async (t) => {
  const { fake, app, client } = await setup(t);
  const call = await client.calls.create({
    to: CALLEE,
    from: FROM,
    url: `${app.base}/broken`,
    statusCallback: `${app.base}/status`,
  });
  const end = await webhookSent(fake, call.sid, 'status');
  assert.equal(end.params.CallStatus, 'completed');
  assert.equal(fake.webhooksFor(call.sid, 'voice')[0]?.status, 500);
});

test('hanging up a call before it is answered cancels it', async (t) => {
  // Slow steps: the hang-up surely comes before the call is even initiated.
  const { fake, client, dial } = await setup(t, 200);
  fake.script(CALLEE, 'no-answer');
  const call = await dial(CALLEE);
  const canceled = await client.calls(call.sid).update({ status: 'canceled' });
  assert.equal(canceled.status, 'canceled');
  const end = await webhookSent(fake, call.sid, 'status', (w) => w.params.CallStatus === 'canceled');
  assert.equal(end.params.CallDuration, '0');
  assert.equal(
    fake.webhooksFor(call.sid).some((w) => w.params.CallStatus === 'no-answer'),
    false,
  );
});

test('invalid numbers, a missing Url and scripted failures come back as RestExceptions with Twilio codes', async (t) => {
  const { fake, client, dial } = await setup(t);
  await assert.rejects(dial('12345'), { status: 400, code: 21211 });
  await assert.rejects(client.calls.create({ to: CALLEE, from: 'switchboard', url: 'https://a.test/v' }), {
    status: 400,
    code: 21212,
  });
  await assert.rejects(client.calls.create({ to: CALLEE, from: FROM }), { status: 400, code: 21205 });
  fake.failCreate('+4930123456789', 400, 21215, 'Account not authorized to call +4930123456789.');
  await assert.rejects(dial('+4930123456789'), {
    status: 400,
    code: 21215,
    moreInfo: 'https://www.twilio.com/docs/errors/21215',
  });
  await assert.rejects(client.calls('CA' + '0'.repeat(32)).fetch(), { status: 404, code: 20404 });
  assert.deepEqual(
    fake.requests.map((r) => r.status),
    [400, 400, 400, 400, 404],
  );
});

test('wrong credentials get 401 with code 20003', async (t) => {
  const { fake } = await setup(t);
  const intruder = new Twilio(ACCOUNT, 'wrong-token', { httpClient: new LocalRequestClient(fake.url) });
  await assert.rejects(intruder.calls.list(), { status: 401, code: 20003 });
  await assert.rejects(intruder.calls.create({ to: CALLEE, from: FROM, url: 'https://a.test/voice' }), {
    status: 401,
    code: 20003,
  });
  assert.deepEqual(
    fake.requests.map((r) => r.status),
    [401, 401],
  );
});

test('calls.list filters by To and Status and follows next_page_uri; calls(sid).fetch finds one', async (t) => {
  const { fake, client, dial } = await setup(t);
  fake.script('+15555550199', 'busy');
  const first = await dial(CALLEE);
  const second = await dial(CALLEE);
  const other = await dial('+15555550199');
  await webhookSent(fake, other.sid, 'status', (w) => w.params.CallStatus === 'busy');
  await webhookSent(fake, first.sid, 'amd');
  await webhookSent(fake, second.sid, 'amd');

  const toCallee = await client.calls.list({ to: CALLEE, pageSize: 1 });
  assert.deepEqual(
    toCallee.map((c) => c.sid),
    [second.sid, first.sid],
  );
  const pages = fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/Calls.json'));
  assert.equal(pages.length, 2, 'one page per call, through next_page_uri');
  assert.equal(pages[1]?.query.get('To'), CALLEE);

  const busy = await client.calls.list({ status: 'busy' });
  assert.deepEqual(
    busy.map((c) => c.sid),
    [other.sid],
  );
  const recent = await client.calls.list({ startTimeAfter: new Date(Date.now() - 60_000) });
  assert.equal(recent.length, 3);
  assert.equal((await client.calls.list({ startTimeBefore: new Date('2020-01-01') })).length, 0);
  assert.equal((await client.calls(first.sid).fetch()).to, CALLEE);
});

test('recordings: create, pause and resume through Twilio.CURRENT, stop, with recording callbacks', async (t) => {
  const { fake, app, client, dial, trace } = await setup(t);
  const call = await dial(CALLEE);
  await webhookSent(fake, call.sid, 'amd');

  const recording = await client.calls(call.sid).recordings.create({
    recordingChannels: 'dual',
    recordingStatusCallback: `${app.base}/recording`,
    recordingStatusCallbackEvent: ['in-progress', 'completed'],
  });
  assert.match(recording.sid, /^RE[0-9a-f]{32}$/);
  assert.equal(recording.status, 'in-progress');
  assert.equal(recording.channels, 2);
  assert.equal(recording.callSid, call.sid);

  const paused = await client.calls(call.sid).recordings('Twilio.CURRENT').update({ status: 'paused' });
  assert.equal(paused.sid, recording.sid);
  assert.equal(paused.status, 'paused');
  const resumed = await client.calls(call.sid).recordings(recording.sid).update({ status: 'in-progress' });
  assert.equal(resumed.status, 'in-progress');
  const stopped = await client.calls(call.sid).recordings('Twilio.CURRENT').update({ status: 'stopped' });
  assert.equal(stopped.status, 'stopped');
  const done = await webhookSent(
    fake,
    call.sid,
    'recording',
    (w) => w.params.RecordingStatus === 'completed',
  );
  assert.equal(done.params.RecordingSid, recording.sid);
  assert.equal(done.params.RecordingChannels, '2');
  assert.match(done.params.RecordingDuration ?? '', /^\d+$/);
  await assert.rejects(client.calls(call.sid).recordings('Twilio.CURRENT').update({ status: 'paused' }), {
    status: 404,
    code: 20404,
  });

  await fake.complete(call.sid);
  assert.deepEqual(
    trace(call.sid).filter((line) => line.startsWith('/recording')),
    ['/recording in-progress', '/recording completed'],
  );
  assert.ok(app.received.every((r) => r.signatureValid));
});

test('a recording still running when the call ends completes after the call', async (t) => {
  const { fake, app, client, dial, trace } = await setup(t);
  const call = await dial(CALLEE);
  await webhookSent(fake, call.sid, 'amd');
  await client.calls(call.sid).recordings.create({ recordingStatusCallback: `${app.base}/recording` });
  await fake.complete(call.sid);
  assert.deepEqual(trace(call.sid).slice(-2), ['/status completed', '/recording completed']);
  await assert.rejects(client.calls(call.sid).recordings.create({}), { status: 400, code: 21220 });
});

test('incoming phone numbers: list by PhoneNumber, then update the voice URL and status callback', async (t) => {
  const { fake, app, client } = await setup(t);
  const sid = fake.addNumber(FROM, { voiceUrl: 'https://old.example/voice' });
  fake.addNumber('+15555550777');

  const [number, ...rest] = await client.incomingPhoneNumbers.list({ phoneNumber: FROM });
  assert.equal(rest.length, 0);
  assert.equal(number?.sid, sid);
  assert.equal(number?.phoneNumber, FROM);
  assert.equal(number?.voiceUrl, 'https://old.example/voice');

  const updated = await client.incomingPhoneNumbers(sid).update({
    voiceUrl: `${app.base}/voice`,
    voiceMethod: 'POST',
    statusCallback: `${app.base}/status`,
    statusCallbackMethod: 'POST',
  });
  assert.equal(updated.voiceUrl, `${app.base}/voice`);
  assert.equal(updated.statusCallback, `${app.base}/status`);
  const again = await client.incomingPhoneNumbers.list({ phoneNumber: FROM });
  assert.equal(again[0]?.voiceUrl, `${app.base}/voice`);
  assert.equal((await client.incomingPhoneNumbers.list()).length, 2);
  await assert.rejects(client.incomingPhoneNumbers('PN' + '0'.repeat(32)).update({ voiceUrl: app.base }), {
    status: 404,
    code: 20404,
  });
});

test('unknown routes answer 404/20404 and bodies over 64 KiB answer 413', async (t) => {
  const { fake } = await setup(t);
  const authorization = 'Basic ' + Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64');
  const unknown = await fetch(`${fake.url}/2010-04-01/Accounts/${ACCOUNT}/Queues.json`, {
    headers: { authorization },
  });
  assert.equal(unknown.status, 404);
  const body = (await unknown.json()) as Record<string, unknown>;
  assert.equal(body.code, 20404);
  assert.equal(body.status, 404);
  assert.equal(body.more_info, 'https://www.twilio.com/docs/errors/20404');

  const huge = await fetch(`${fake.url}/2010-04-01/Accounts/${ACCOUNT}/Calls.json`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Twiml=' + 'x'.repeat(70 * 1024),
  });
  assert.equal(huge.status, 413);
  assert.equal(fake.requests.at(-1)?.status, 413);
  assert.equal(fake.requests.at(-1)?.form.toString(), '', 'the oversized body is not kept');
});
