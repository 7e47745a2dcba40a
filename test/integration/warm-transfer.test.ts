/**
 * Warm transfer against the local fake of Twilio's REST API, with signed callbacks: the caller is put on hold in
 * a conference room, the person is called with a whisper built from the call's slots, and either takes the call
 * (joins the room; the caller's conversation ends as transferred), declines it, or does not answer in time. A
 * caller who was not taken is redirected to be resumed on a new stream, where the flow goes on at `onError`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readJournal } from '../../src/call/call-journal.ts';
import { lazyRestClient } from '../../src/telephony/rest-client.ts';
import type { FakeTwilioApiServer, FakeTwilioEvent } from '../fakes/twilio-api/index.ts';
import type { RawStream, TestServer } from '../support/harness.ts';
import {
  serverWithTwilioRest,
  streamFromTwiml,
  until,
  type TwilioRestServer,
} from '../support/twilio-rest-server.ts';

const ACCOUNT = 'AC' + '7'.repeat(32);
const TOKEN = 'warm-transfer-test-token';
const OUR_NUMBER = '+15550009000';
const DESK = '+15550008000';

const FLOW = {
  id: 'desk',
  version: 1,
  start: 'welcome',
  states: {
    welcome: {
      say: 'Enter your four digit account number.',
      collect: { slot: 'account', digits: { min: 4, max: 4 } },
      next: 'connect',
    },
    connect: {
      say: 'Connecting you to the front desk.',
      transfer: { to: DESK, mode: 'warm', whisper: 'Account {{account}} is calling.', timeout: 20 },
      onError: 'sorry',
    },
    sorry: {
      say: 'Nobody could take your call. Press 1 to try again, or 9 to hang up.',
      on: { 'dtmf:1': 'connect', 'dtmf:9': 'bye' },
    },
    bye: { say: 'Goodbye.', hangup: true },
  },
};

let rig: TwilioRestServer;
let server: TestServer;
let twilio: FakeTwilioApiServer;

before(async () => {
  rig = await serverWithTwilioRest({ accountSid: ACCOUNT, authToken: TOKEN, flow: FLOW });
  ({ server, twilio } = rig);
});

after(() => rig.close());

const connectStream = (callSid: string, twiml: string) => streamFromTwiml(TOKEN, callSid, twiml);

const twimlOf = (callSid: string, has: string) => (e: FakeTwilioEvent) =>
  e.type === 'twiml' && e.callSid === callSid && e.twiml.includes(has);

/**
 * A caller enters their account number and is put on hold: resolves with the caller's call, its SID, and the
 * call placed to the desk, once the caller's stream has stopped as Twilio stops it on the redirect.
 */
async function callerOnHold(): Promise<{ callSid: string; personSid: string }> {
  const known = callsTo(DESK);
  const callSid = await callerToHold();
  const placed = await twilio.waitFor(
    (e) =>
      e.type === 'request' && e.request.path.endsWith('/Calls.json') && e.request.form.get('To') === DESK,
    5000,
  );
  assert.ok(placed.type === 'request');
  assert.equal(placed.request.form.get('From'), OUR_NUMBER, "the desk is called from the call's own number");
  assert.equal(placed.request.form.get('Timeout'), '20', "the desk's phone rings for the flow's timeout");
  const person = await twilio.waitFor(
    (e) => e.type === 'status' && twilio.call(e.callSid)?.to === DESK && !known.has(e.callSid),
    5000,
  );
  assert.ok(person.type === 'status');
  return { callSid, personSid: person.callSid };
}

/** A caller keys in their account number and is put on hold; resolves once their stream has stopped. */
async function callerToHold(): Promise<string> {
  const client = lazyRestClient({ accountSid: ACCOUNT, authToken: TOKEN, apiUrl: twilio.url }, 5000)();
  const call = await client.calls.create({
    to: '+15550007001',
    from: OUR_NUMBER,
    url: `${server.url}/twilio/voice?flow=desk`,
    statusCallback: `${server.url}/twilio/status`,
  });
  const voice = await twilio.waitFor(
    (e) => e.type === 'webhook' && e.webhook.kind === 'voice' && e.webhook.callSid === call.sid,
    5000,
  );
  assert.ok(voice.type === 'webhook');
  const stream = await connectStream(call.sid, voice.webhook.body);
  for (const digit of '4217') stream.send(stream.enc.dtmf(digit));

  await twilio.waitFor(twimlOf(call.sid, '<Conference'), 5000);
  const seat = twilio.conference(call.sid)!;
  assert.equal(seat.startsConference, false, 'the caller hears hold audio until someone joins');
  assert.equal(seat.endsConference, true, 'the room closes when the caller leaves');
  // Twilio ends the stream of a call whose TwiML was replaced.
  stream.send(stream.enc.stop());
  await stream.closed;
  return call.sid;
}

/** Calls the fake placed to `to` so far. */
function callsTo(to: string): Set<string> {
  return new Set(
    twilio.events.flatMap((e) =>
      e.type === 'status' && twilio.call(e.callSid)?.to === to ? [e.callSid] : [],
    ),
  );
}

/** The caller was sent back: Twilio asks the server how to go on, and a new stream resumes the call. */
async function callerBack(callSid: string): Promise<RawStream> {
  // Its TwiML so far: the first stream's <Connect>, then the conference; a third is the way back.
  const twiml = () => twilio.call(callSid)!.twiml;
  await until(() => twiml().length > 2 && twiml().at(-1)!.includes('<Connect'), 'the caller is sent back');
  return connectStream(callSid, twiml().at(-1)!);
}

const said = async (callSid: string): Promise<string[]> =>
  (await readJournal(server.journals.store, callSid)).flatMap((r) =>
    r.kind === 'eff' && r.effect.type === 'say' ? [String(r.effect.text)] : [],
  );

const failures = async (callSid: string): Promise<string[]> =>
  (await readJournal(server.journals.store, callSid)).flatMap((r) =>
    r.kind === 'in' && r.event.type === 'transfer.failed' ? [String(r.event.reason)] : [],
  );

/** How often the server redirected the caller back to be resumed. */
const returns = (callSid: string): number =>
  twilio.requests.filter(
    (r) => r.method === 'POST' && r.path.endsWith(`/Calls/${callSid}.json`) && r.form.has('Url'),
  ).length;

test('accepted: the person hears the whisper, takes the call with 1 and joins the caller; the flow is done', async () => {
  const { callSid, personSid } = await callerOnHold();
  await twilio.waitFor(twimlOf(personSid, '<Gather'), 5000);
  const whisper = twilio.call(personSid)!.twiml.at(-1)!;
  assert.match(whisper, /Account 4217 is calling\./, "the whisper is built from the call's slots");

  await twilio.gather(personSid, '1');
  const seat = twilio.conference(personSid);
  assert.equal(seat?.room, twilio.conference(callSid)?.room, 'the person joins the caller in the same room');
  assert.equal(seat?.startsConference, true, 'their joining ends the hold');
  const journal = await readJournal(server.journals.store, callSid);
  const end = journal.at(-1);
  assert.equal(
    end?.kind === 'end' && end.reason,
    'transferred',
    "the caller's conversation ends as transferred",
  );
  assert.equal(returns(callSid), 0, 'the caller stays with the person');
  // The person hangs up at the end of the conversation: nothing sends the caller back.
  await twilio.complete(personSid);
  assert.equal(returns(callSid), 0);
});

test('declined: the person presses 2, the caller comes back to the flow at onError and hears its prompt', async () => {
  const { callSid, personSid } = await callerOnHold();
  await twilio.waitFor(twimlOf(personSid, '<Gather'), 5000);
  await twilio.gather(personSid, '2');
  assert.match(twilio.call(personSid)!.twiml.at(-1)!, /<Hangup\/>/, 'the person is told, then hung up on');

  const stream = await callerBack(callSid);
  await until(
    async () => (await failures(callSid)).length === 1,
    'the flow hears the transfer was not taken',
  );
  assert.match((await failures(callSid))[0]!, /declined/);
  await until(
    async () => (await said(callSid)).at(-1)?.startsWith('Nobody could take') ?? false,
    'the onError prompt',
  );
  // Twilio hangs the person's call up after the TwiML: a second outcome changes nothing.
  await twilio.complete(personSid);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(returns(callSid), 1, 'the caller was sent back once');

  stream.send(stream.enc.dtmf('9'));
  await until(async () => (await said(callSid)).at(-1) === 'Goodbye.', 'the call goes on from there');
  stream.send(stream.enc.stop());
  await stream.closed;
});

test('timed out: nobody answers within the timeout, the caller comes back at onError and may try again', async () => {
  twilio.scriptSequence(DESK, ['no-answer', 'human']);
  const { callSid } = await callerOnHold();
  const stream = await callerBack(callSid);
  await until(async () => (await failures(callSid)).length === 1, 'the flow hears nobody answered');
  assert.match((await failures(callSid))[0]!, /no answer/);
  await until(
    async () => (await said(callSid)).at(-1)?.startsWith('Nobody could take') ?? false,
    'the onError prompt',
  );

  // Trying again is a new transfer: the desk is called a second time, and this time someone answers.
  const known = callsTo(DESK);
  const twiml = () => twilio.call(callSid)!.twiml;
  const before = twiml().length;
  stream.send(stream.enc.dtmf('1'));
  await until(() => twiml().length > before && twiml().at(-1)!.includes('<Conference'), 'on hold again');
  stream.send(stream.enc.stop());
  await stream.closed;
  const second = await twilio.waitFor(
    (e) => e.type === 'twiml' && twilio.call(e.callSid)?.to === DESK && !known.has(e.callSid),
    5000,
  );
  assert.ok(second.type === 'twiml');
  await twilio.gather(second.callSid, '1');
  assert.equal(twilio.conference(second.callSid)?.room, twilio.conference(callSid)?.room);
  await twilio.complete(second.callSid);
});

test("the caller hangs up on hold: the transfer is called off and the person's call ends", async () => {
  twilio.script(DESK, 'human');
  const { callSid, personSid } = await callerOnHold();
  await twilio.complete(callSid);
  await until(
    () => twilio.call(personSid)!.status === 'completed' || twilio.call(personSid)!.status === 'canceled',
    "the person's call ends",
  );
  const journal = await readJournal(server.journals.store, callSid);
  const end = journal.at(-1);
  assert.equal(end?.kind === 'end' && end.reason, 'call completed');
  assert.equal(returns(callSid), 0, 'nobody to send back');
});

// Last: the desk's number stays refused for the rest of the file.
test('the person cannot be called at all: the caller comes back from hold at onError', async () => {
  twilio.failCreate(DESK, 400, 21215, 'Account not authorized to call this number.');
  const callSid = await callerToHold();
  const stream = await callerBack(callSid);
  await until(async () => (await failures(callSid)).length === 1, 'the flow hears the person was not called');
  assert.match((await failures(callSid))[0]!, /not placed/);
  await until(
    async () => (await said(callSid)).at(-1)?.startsWith('Nobody could take') ?? false,
    'the onError prompt',
  );
  stream.send(stream.enc.stop());
  await stream.closed;
});
