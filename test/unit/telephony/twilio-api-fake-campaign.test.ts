/** What crash tests of outbound campaigns need of the fake Twilio REST API: held creates, hang-ups, retries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeTwilioApiServer, type FakeTwilioEvent } from '../../fakes/twilio-api/index.ts';
import {
  ACCOUNT,
  ALL_EVENTS,
  CALLEE,
  CALL_SID,
  FROM,
  LocalRequestClient,
  STREAM_TWIML,
  TOKEN,
  Twilio,
  setup,
  webhookSent,
} from './twilio-api-fake-helpers.ts';

const OTHER = '+15555550199';
const AUTHORIZATION = 'Basic ' + Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64');

type Held = Extract<FakeTwilioEvent, { type: 'held' }>;
const isHeld = (e: FakeTwilioEvent): e is Held => e.type === 'held';

/** A create as the twilio library sends it, but through fetch, so that the test can abort it mid-request. */
function rawCreate(base: string, app: string, signal: AbortSignal): Promise<Response> {
  const form = new URLSearchParams({
    To: CALLEE,
    From: FROM,
    Url: `${app}/voice`,
    StatusCallback: `${app}/status`,
  });
  for (const event of ALL_EVENTS) form.append('StatusCallbackEvent', event);
  return fetch(`${base}/2010-04-01/Accounts/${ACCOUNT}/Calls.json`, {
    method: 'POST',
    headers: { authorization: AUTHORIZATION, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    signal,
  });
}

/** A status change of one call, as the fake's event log has it. */
function reached(fake: FakeTwilioApiServer, callSid: string, status: string): Promise<unknown> {
  return fake.waitFor((e) => e.type === 'status' && e.callSid === callSid && e.status === status);
}

test('a dropped create places no call and is never answered; the next create goes through', async (t) => {
  const { fake, app, client, dial, trace } = await setup(t);
  fake.scriptSequence(CALLEE, ['busy', 'human']);
  fake.holdCreates(CALLEE, 'drop');
  const aborter = new AbortController();
  const pending = rawCreate(fake.url, app.base, aborter.signal);

  assert.deepEqual(await fake.waitFor(isHeld), { type: 'held', to: CALLEE, mode: 'drop', callSid: null });
  assert.deepEqual(await client.calls.list({ to: CALLEE }), []);
  aborter.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  assert.equal(fake.releaseHeld(), 0, 'a dropped create is not answered even on release');

  // Only that one create was held, and it took nothing of the script: the next call is the first, busy.
  const call = await dial(CALLEE);
  await webhookSent(fake, call.sid, 'status', (w) => w.params.CallStatus === 'busy');
  assert.deepEqual(
    (await client.calls.list({ to: CALLEE })).map((c) => c.sid),
    [call.sid],
  );
  assert.deepEqual(trace(call.sid), ['/status initiated', '/status busy']);
  const creates = fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Calls.json'));
  assert.deepEqual(
    creates.map((r) => r.status),
    [201],
    'the dropped request is not recorded',
  );
  assert.equal(fake.events.filter((e) => e.type === 'error').length, 0);
});

test('a held create places the call, which goes on as scripted; its answer waits for releaseHeld()', async (t) => {
  const { fake, client, dial, trace } = await setup(t);
  fake.holdCreates(CALLEE, 'hold');
  let settled = false;
  const creating = dial(CALLEE).finally(() => (settled = true));

  const held = await fake.waitFor(isHeld);
  assert.equal(held.mode, 'hold');
  assert.equal(held.to, CALLEE);
  const sid = held.callSid ?? '';
  assert.match(sid, CALL_SID);
  assert.deepEqual(
    (await client.calls.list({ to: CALLEE })).map((c) => c.sid),
    [sid],
  );
  await webhookSent(fake, sid, 'amd');
  assert.equal(settled, false, 'the answer is still withheld');
  assert.equal(fake.requests.filter((r) => r.method === 'POST').length, 0, 'recorded only once answered');

  assert.equal(fake.releaseHeld(), 1);
  const call = await creating;
  assert.equal(call.sid, sid);
  assert.equal(call.status, 'queued', 'the answer as it was when the call was created');
  await fake.complete(sid);
  assert.deepEqual(trace(sid), [
    '/status initiated',
    '/status ringing',
    '/status in-progress',
    '/voice in-progress',
    '/amd human',
    '/status completed',
  ]);

  // Two holds hold the next two creates, and no more.
  fake.holdCreates(OTHER, 'hold');
  fake.holdCreates(OTHER, 'hold');
  const first = dial(OTHER);
  const second = dial(OTHER);
  await fake.waitFor(() => fake.events.filter(isHeld).length === 3);
  const third = await dial(OTHER);
  assert.equal(fake.releaseHeld(), 2);
  const sids = [(await first).sid, (await second).sid, third.sid];
  assert.equal(new Set(sids).size, 3);
});

test('a held create whose client goes away is never answered; the call goes on and ends', async (t) => {
  const { fake, app, trace } = await setup(t);
  fake.holdCreates(CALLEE, 'hold');
  const aborter = new AbortController();
  const pending = rawCreate(fake.url, app.base, aborter.signal);
  const held = await fake.waitFor(isHeld);
  const sid = held.callSid ?? '';
  assert.match(sid, CALL_SID);

  aborter.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  // Twilio did take the request: it is recorded with the answer the client never got.
  const created = await fake.waitFor((e) => e.type === 'request' && e.request.method === 'POST');
  assert.equal(created.type === 'request' && created.request.status, 201);
  assert.equal(fake.releaseHeld(), 0, 'nobody is left to answer');

  await webhookSent(fake, sid, 'voice');
  await fake.complete(sid);
  assert.deepEqual(trace(sid), [
    '/status initiated',
    '/status ringing',
    '/status in-progress',
    '/voice in-progress',
    '/status completed',
  ]);
  assert.equal(fake.call(sid)?.status, 'completed');
});

test('hangupAfterMs: the callee hangs up after the answer, never before the voice webhook and AMD', async (t) => {
  const { fake, dial, trace } = await setup(t);
  fake.script(CALLEE, { outcome: 'human', hangupAfterMs: 50 });
  // Detection takes longer than the callee stays: the hang-up comes right after it.
  fake.script(OTHER, { outcome: 'machine', answeredBy: 'machine_end_beep', afterMs: 40, hangupAfterMs: 0 });
  const human = await dial(CALLEE);
  const machine = await dial(OTHER);
  for (const [call, answeredBy] of [
    [human, 'human'],
    [machine, 'machine_end_beep'],
  ] as const) {
    const end = await webhookSent(fake, call.sid, 'status', (w) => w.params.CallStatus === 'completed');
    assert.equal(end.params.AnsweredBy, answeredBy);
    assert.match(end.params.CallDuration ?? '', /^\d+$/);
    assert.deepEqual(trace(call.sid), [
      '/status initiated',
      '/status ringing',
      '/status in-progress',
      '/voice in-progress',
      `/amd ${answeredBy}`,
      '/status completed',
    ]);
    assert.equal(fake.call(call.sid)?.status, 'completed');
  }
});

test('the fake-wide hangupAfterMs ends answered calls without their own; a script of their own wins', async (t) => {
  const fake = new FakeTwilioApiServer({ accountSid: ACCOUNT, authToken: TOKEN, hangupAfterMs: 20 });
  await fake.start();
  t.after(() => fake.close());
  const client = new Twilio(ACCOUNT, TOKEN, { httpClient: new LocalRequestClient(fake.url) });
  fake.script(OTHER, { outcome: 'human', hangupAfterMs: 60_000 });
  const create = (to: string) => client.calls.create({ to, from: FROM, twiml: STREAM_TWIML });

  const staying = await create(OTHER);
  const leaving = await create(CALLEE);
  await reached(fake, staying.sid, 'in-progress');
  await reached(fake, leaving.sid, 'completed');
  assert.equal((await client.calls(leaving.sid).fetch()).status, 'completed');
  assert.equal((await client.calls(staying.sid).fetch()).status, 'in-progress');
  await fake.complete(staying.sid);
  assert.equal(fake.call(staying.sid)?.status, 'completed');
});

test('scriptSequence: successive calls to a number take successive outcomes, the last one repeating', async (t) => {
  const { fake, client, dial } = await setup(t);
  fake.scriptSequence(CALLEE, ['busy', 'no-answer', { outcome: 'human', hangupAfterMs: 0 }]);
  const ends: string[] = [];
  for (let attempt = 0; attempt < 4; attempt++) {
    const call = await dial(CALLEE);
    const end = await webhookSent(fake, call.sid, 'status', (w) =>
      ['busy', 'no-answer', 'completed'].includes(w.params.CallStatus ?? ''),
    );
    ends.push(`${end.params.CallStatus} ${(await client.calls(call.sid).fetch()).answeredBy}`);
  }
  assert.deepEqual(ends, ['busy null', 'no-answer null', 'completed human', 'completed human']);

  // script() starts over with one outcome for every call; other numbers keep the default.
  fake.script(CALLEE, 'failed');
  const failed = await dial(CALLEE);
  await webhookSent(fake, failed.sid, 'status', (w) => w.params.CallStatus === 'failed');
  const other = await dial(OTHER);
  assert.equal((await webhookSent(fake, other.sid, 'amd')).params.AnsweredBy, 'human');
  assert.throws(() => fake.scriptSequence(CALLEE, []), /no outcomes/);
});

test('calls(sid).fetch reads the current status and answered_by at each step of the call', async (t) => {
  // Slow steps: each fetch surely comes before the next step.
  const { fake, client, dial } = await setup(t, 100);
  fake.script(CALLEE, { outcome: 'machine', answeredBy: 'machine_end_beep', afterMs: 150 });
  const call = await dial(CALLEE);
  const now = async () => {
    const fetched = await client.calls(call.sid).fetch();
    return `${fetched.status} ${fetched.answeredBy}`;
  };
  assert.equal(await now(), 'queued null');
  await reached(fake, call.sid, 'ringing');
  assert.equal(await now(), 'ringing null');
  await reached(fake, call.sid, 'in-progress');
  assert.equal(await now(), 'in-progress null');
  await webhookSent(fake, call.sid, 'amd');
  assert.equal(await now(), 'in-progress machine_end_beep');
  await fake.complete(call.sid);
  assert.equal(await now(), 'completed machine_end_beep');

  // Twilio's own JSON field names, as the library reads them.
  const raw = await fetch(`${fake.url}/2010-04-01/Accounts/${ACCOUNT}/Calls/${call.sid}.json`, {
    headers: { authorization: AUTHORIZATION },
  });
  const body = (await raw.json()) as Record<string, unknown>;
  assert.equal(body.status, 'completed');
  assert.equal(body.answered_by, 'machine_end_beep');

  const canceled = await dial(OTHER);
  await client.calls(canceled.sid).update({ status: 'canceled' });
  assert.equal((await client.calls(canceled.sid).fetch()).status, 'canceled');
});
