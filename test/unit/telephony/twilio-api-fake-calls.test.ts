/** Calls placed through the fake Twilio REST API: progress callbacks, AMD, outcomes, new TwiML, hang-up. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCOUNT,
  ALL_EVENTS,
  CALLEE,
  CALL_SID,
  FROM,
  REDIRECT_TWIML,
  STREAM_TWIML,
  TOKEN,
  referenceSignature,
  setup,
  webhookSent,
} from './twilio-api-fake-helpers.ts';

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
