/**
 * Placing calls through the calls API, against the local fake of Twilio's REST API reached with the real
 * `twilio` client: the call is journaled before Twilio is asked, its flow reads the variables it was dialed
 * with, and who answered (the fake's signed detection callback) reaches the flow: a human hears the reminder
 * and confirms it, a machine gets the message once its greeting ends.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readJournal } from '../../src/call/call-journal.ts';
import type { JournalRecord } from '../../src/journal/records.ts';
import { beginDial, readDial } from '../../src/outbound/dial-journal.ts';
import { readTwiml } from '../../src/simulator/twiml-reader.ts';
import { lazyRestClient } from '../../src/telephony/rest-client.ts';
import { signTwilioRequest } from '../../src/telephony/signature.ts';
import { FakeTwilioApiServer, type FakeTwilioEvent } from '../fakes/twilio-api/index.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { RawStream, startServer, waitForLog, type TestServer } from '../support/harness.ts';

const ACCOUNT = 'AC' + '5'.repeat(32);
const TOKEN = 'dial-test-token';
const API_KEY = 'dial-test-api-key-0123456789';
const OURS = '+15550001000';
const VARS = { name: 'Ada', date: '2026-12-09', time: '15:30' };

let server: TestServer;
let twilio: FakeTwilioApiServer;

before(async () => {
  twilio = new FakeTwilioApiServer({ accountSid: ACCOUNT, authToken: TOKEN });
  await twilio.start();
  server = await startServer({
    authToken: TOKEN,
    tts: new ToneTts({ msPerChar: 1 }),
    dialing: { apiKey: API_KEY, accountSid: ACCOUNT, authToken: TOKEN, apiUrl: twilio.url, callerId: OURS },
  });
});

after(async () => {
  await twilio.close();
  await server.close();
});

async function dial(
  body: unknown,
  key = API_KEY,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/api/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const creates = (to: string): number =>
  twilio.requests.filter(
    (r) => r.method === 'POST' && r.path.endsWith('/Calls.json') && r.form.get('To') === to,
  ).length;

/** Answer the call as Twilio would: take the voice webhook's TwiML and open the stream it names. */
async function openStream(callSid: string): Promise<{ stream: RawStream; params: Record<string, string> }> {
  const voice = await twilio.waitFor(
    (e: FakeTwilioEvent) =>
      e.type === 'webhook' && e.webhook.kind === 'voice' && e.webhook.callSid === callSid,
    5000,
  );
  assert.ok(voice.type === 'webhook' && voice.webhook.status === 200, 'the signed voice webhook was taken');
  const connect = readTwiml(voice.webhook.body).connect;
  assert.ok(connect, voice.webhook.body);
  const stream = new RawStream(connect.streamUrl, callSid, {
    'x-twilio-signature': signTwilioRequest(TOKEN, connect.streamUrl, {}),
  });
  await stream.opened;
  stream.send(stream.enc.connected());
  stream.send(stream.enc.start(connect.parameters));
  return { stream, params: connect.parameters };
}

const says = (records: JournalRecord[]): string[] =>
  records.flatMap((r) => (r.kind === 'eff' && r.effect.type === 'say' ? [String(r.effect.text)] : []));

async function waitForJournal(
  callSid: string,
  done: (records: JournalRecord[]) => boolean,
): Promise<JournalRecord[]> {
  for (let i = 0; i < 200; i++) {
    const records = await readJournal(server.journals.store, callSid);
    if (done(records)) return records;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(
    `journal of ${callSid} never got there: ${JSON.stringify(await readJournal(server.journals.store, callSid))}`,
  );
}

test('a human answers: the reminder names them, detection says human, and pressing 1 confirms', async () => {
  const to = '+15550002001';
  const placed = await dial({ to, flow: 'reminder', vars: VARS, idempotencyKey: 'human-1' });
  assert.equal(placed.status, 201, JSON.stringify(placed.json));
  const callSid = String(placed.json.callSid);
  assert.match(callSid, /^CA[0-9a-f]{32}$/);
  const create = twilio.call(callSid)!.params;
  assert.equal(create.get('MachineDetection'), 'DetectMessageEnd');
  assert.equal(create.get('AsyncAmd'), 'true');
  assert.match(create.get('AsyncAmdStatusCallback') ?? '', /\/twilio\/amd\?dial=human-1$/);
  assert.equal(create.get('From'), OURS, 'TWILIO_CALLER_ID when the request names no caller id');

  const { stream, params } = await openStream(callSid);
  assert.equal(params.dial, 'human-1');
  const greeted = await waitForJournal(callSid, (r) => says(r).length > 0);
  assert.match(
    says(greeted)[0]!,
    /^Hello Ada, this is a reminder of your appointment on Wednesday, December 9th at 3:30 PM\./,
  );
  await waitForJournal(callSid, (r) => r.some((x) => x.kind === 'in' && x.event.type === 'answered'));
  stream.send(stream.enc.dtmf('1'));
  const ended = await waitForJournal(callSid, (r) =>
    r.some((x) => x.kind === 'eff' && x.effect.type === 'hangup'),
  );
  assert.match(says(ended).at(-1)!, /your appointment is confirmed/);
  const answered = ended.find((r) => r.kind === 'in' && r.event.type === 'answered');
  assert.equal(answered?.kind === 'in' && answered.event.answeredBy, 'human');
  stream.send(stream.enc.stop());
  await stream.closed;
  await twilio.complete(callSid);
  const dialed = await readDial(server.journals.store, 'human-1');
  assert.equal(dialed?.callSid, callSid);
  assert.equal(dialed?.answeredBy, 'human');
  assert.equal(dialed?.status, 'completed');
  assert.ok(dialed?.endedAt, 'the final status ended the dial');
});

test('a machine answers: after its greeting ends the message is left once, then the call hangs up', async () => {
  const to = '+15550002002';
  twilio.script(to, { outcome: 'machine', answeredBy: 'machine_end_beep', afterMs: 300 });
  const placed = await dial({ to, flow: 'reminder', vars: VARS, idempotencyKey: 'machine-1' });
  assert.equal(placed.status, 201, JSON.stringify(placed.json));
  const callSid = String(placed.json.callSid);
  const { stream } = await openStream(callSid);
  const records = await waitForJournal(callSid, (r) =>
    r.some((x) => x.kind === 'eff' && x.effect.type === 'hangup'),
  );
  const spoken = says(records);
  assert.match(spoken[0]!, /^Hello Ada, this is a reminder/, 'the greeting plays while detection listens');
  assert.match(spoken.at(-1)!, /^Hello Ada, .* Please call us back if you need to change it\. Goodbye\.$/);
  assert.equal(spoken.filter((s) => s.includes('Please call us back if you need to change it')).length, 1);
  const amd = twilio.webhooksFor(callSid, 'amd');
  assert.equal(amd.length, 1);
  assert.equal(amd[0]!.status, 204, 'the signed detection callback was taken');
  stream.send(stream.enc.stop());
  await stream.closed;
});

test('the same idempotency key places one call, however often it is sent', async () => {
  const to = '+15550002003';
  const body = { to, flow: 'reminder', vars: VARS, idempotencyKey: 'once-1' };
  const [a, b] = await Promise.all([dial(body), dial(body)]);
  const c = await dial(body);
  assert.deepEqual([a.status, b.status, c.status].sort(), [200, 200, 201]);
  assert.equal(new Set([a.json.callSid, b.json.callSid, c.json.callSid]).size, 1);
  assert.equal(creates(to), 1);
  const reused = await dial({ ...body, to: '+15550002099' });
  assert.equal(reused.status, 409);
  assert.equal(reused.json.error, 'DIAL_KEY_REUSED');
});

test('a dial journaled but never answered by Twilio finds the call it placed, or places it', async () => {
  const store = server.journals.store;
  // Killed after Twilio created the call, before its SID was journaled.
  const to = '+15550002004';
  const request = { to, from: OURS, flow: 'reminder', vars: VARS, idempotencyKey: 'crash-after' };
  assert.ok(await beginDial(store, 'dead-instance', request, 1, Date.now()));
  const client = lazyRestClient({ accountSid: ACCOUNT, authToken: TOKEN, apiUrl: twilio.url }, 5000)();
  const created = await client.calls.create({
    to,
    from: OURS,
    url: `${server.url}/twilio/voice?flow=reminder`,
  });
  const retried = await dial(request);
  assert.equal(retried.status, 200, JSON.stringify(retried.json));
  assert.equal(retried.json.callSid, created.sid);
  assert.equal(creates(to), 1, 'the retry created no second call');
  await waitForLog(server.records, (r) => r.msg === 'dial retried: the call placed before was found');

  // Killed before Twilio was asked: the retry places it.
  const to2 = '+15550002005';
  const request2 = { ...request, to: to2, idempotencyKey: 'crash-before' };
  assert.ok(await beginDial(store, 'dead-instance', request2, 1, Date.now()));
  const placed = await dial(request2);
  assert.equal(placed.status, 201, JSON.stringify(placed.json));
  assert.equal(creates(to2), 1);
});

test('bad requests are refused with what is wrong, and the key never logged', async () => {
  const off = await startServer({
    dialing: { apiKey: null, accountSid: ACCOUNT, authToken: TOKEN, apiUrl: twilio.url },
  });
  try {
    const res = await fetch(`${off.url}/api/calls`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { message: string }).message, /set API_KEY/);
  } finally {
    await off.close();
  }
  const wrong = await dial({ to: '+15550002006', flow: 'reminder', vars: VARS }, 'not-the-key-at-all');
  assert.equal(wrong.status, 401);
  assert.ok(
    !JSON.stringify(server.records).includes('not-the-key-at-all'),
    'the key a client sent is never logged',
  );

  const cases: [unknown, number, string, string | undefined, RegExp][] = [
    [{ to: '555-1234', flow: 'reminder', vars: VARS }, 400, 'DIAL_INVALID', 'to', /E\.164/],
    [
      { to: '+15550002006', flow: 'remindr', vars: VARS },
      404,
      'FLOW_NOT_FOUND',
      'flow',
      /did you mean "reminder"/,
    ],
    [
      { to: '+15550002006', flow: 'reminder', vars: { name: 'Ada' } },
      400,
      'DIAL_INVALID',
      'vars',
      /date, time/,
    ],
    [
      { to: '+15550002006', flow: 'reminder', vars: { ...VARS, 'a b': 'x' } },
      400,
      'DIAL_INVALID',
      'vars',
      /letters/,
    ],
    [
      { to: '+15550002006', flow: 'reminder', vars: VARS, extra: 1 },
      400,
      'DIAL_INVALID',
      'extra',
      /unknown field/,
    ],
    [[1, 2], 400, 'DIAL_INVALID', 'body', /JSON object/],
  ];
  for (const [body, status, error, field, message] of cases) {
    const answer = await dial(body);
    assert.equal(answer.status, status, JSON.stringify(answer.json));
    assert.equal(answer.json.error, error);
    assert.equal(answer.json.field, field);
    assert.match(String(answer.json.message), message);
  }
  const missing = await dial({ to: '+15550002006', flow: 'reminder', vars: { name: 'Ada' } });
  assert.deepEqual(missing.json.missing, ['date', 'time']);

  // Twilio refuses: its code and what it means, and asking again with the key gets the same answer.
  const far = '+15550002007';
  twilio.failCreate(far, 400, 21215, `Account not authorized to call ${far}.`);
  for (let i = 0; i < 2; i++) {
    const refused = await dial({ to: far, flow: 'reminder', vars: VARS, idempotencyKey: 'geo-1' });
    assert.equal(refused.status, 502);
    assert.equal(refused.json.error, 'TWILIO_REST_FAILED');
    assert.equal(refused.json.twilioCode, 21215);
    assert.equal(refused.json.retryable, false);
    if (i === 0) assert.match(String(refused.json.message), /geographic permission/);
  }
  assert.equal(creates(far), 1);
  assert.ok(
    !JSON.stringify(
      server.records.filter((r) => r.msg === 'call could not be placed').map((r) => r.msg),
    ).includes(far),
  );
});

test('detection and status callbacks for unknown calls, repeated or late, change nothing', async () => {
  const post = async (path: string, params: Record<string, string>): Promise<number> => {
    const url = `${server.url}${path}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signTwilioRequest(TOKEN, url, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    return res.status;
  };
  const sid = 'CA' + 'e'.repeat(32);
  assert.equal(await post('/twilio/amd?dial=nobody', { CallSid: sid, AnsweredBy: 'human' }), 204);
  await waitForLog(server.records, (r) => r.msg === 'answering machine detection for an unknown call');
  assert.equal(await post('/twilio/amd?dial=nobody', { CallSid: sid, AnsweredBy: 'robot' }), 400);

  const placed = await dial({ to: '+15550002008', flow: 'reminder', vars: VARS, idempotencyKey: 'late-1' });
  const callSid = String(placed.json.callSid);
  await twilio.waitFor(
    (e) => e.type === 'webhook' && e.webhook.kind === 'amd' && e.webhook.callSid === callSid,
    5000,
  );
  const before = (await readJournal(server.journals.store, 'dial-late-1')).length;
  assert.equal(await post('/twilio/amd?dial=late-1', { CallSid: callSid, AnsweredBy: 'human' }), 204);
  assert.equal(
    await post('/twilio/amd?dial=late-1', { CallSid: 'CA' + 'f'.repeat(32), AnsweredBy: 'fax' }),
    204,
  );
  assert.equal(
    (await readJournal(server.journals.store, 'dial-late-1')).length,
    before,
    'a repeat and another call: nothing',
  );
  await twilio.complete(callSid);
  await twilio.waitFor(
    (e) =>
      e.type === 'webhook' &&
      e.webhook.kind === 'status' &&
      e.webhook.params.CallStatus === 'completed' &&
      e.webhook.callSid === callSid,
    5000,
  );
  assert.equal(await post('/twilio/status?dial=late-1', { CallSid: callSid, CallStatus: 'ringing' }), 204);
  const dialed = await readDial(server.journals.store, 'late-1');
  assert.equal(dialed?.status, 'completed', 'a status after the final one changes nothing');
});
