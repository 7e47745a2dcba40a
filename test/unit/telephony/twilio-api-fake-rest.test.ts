/** The fake Twilio REST API's errors, credentials, call lists, recordings, numbers and unknown routes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCOUNT,
  CALLEE,
  FROM,
  LocalRequestClient,
  TOKEN,
  Twilio,
  setup,
  webhookSent,
} from './twilio-api-fake-helpers.ts';

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
