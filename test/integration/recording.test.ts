/**
 * Recording with consent, against the local fake of Twilio's REST API: the caller hears the consent line, then
 * a dual-channel recording starts; it is paused while a sensitive state collects card digits and resumed after;
 * its status callbacks (signed) are journaled beside the call, its URL among them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readJournal } from '../../src/call/call-journal.ts';
import { readRecordings } from '../../src/call/recordings.ts';
import { lazyRestClient } from '../../src/telephony/rest-client.ts';
import type { FakeTwilioApiServer } from '../fakes/twilio-api/index.ts';
import { waitForLog, type TestServer } from '../support/harness.ts';
import {
  serverWithTwilioRest,
  streamFromTwiml,
  until,
  type TwilioRestServer,
} from '../support/twilio-rest-server.ts';

const ACCOUNT = 'AC' + '9'.repeat(32);
const TOKEN = 'recording-test-token';
const CONSENT = 'This call is recorded for quality.';

const FLOW = {
  id: 'recorded',
  version: 1,
  start: 'welcome',
  record: CONSENT,
  states: {
    welcome: { say: 'Welcome. To pay, press 1.', on: { 'dtmf:1': 'card' } },
    card: {
      say: 'Enter your card number, then press the pound key.',
      sensitive: true,
      collect: { slot: 'card', digits: { min: 4, max: 19, terminator: '#' } },
      next: 'thanks',
    },
    thanks: { say: 'Thank you. Say goodbye when you are done.', on: { 'dtmf:9': 'bye' } },
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

const recordingRequests = (): string[] =>
  twilio.requests
    .filter((r) => r.method === 'POST' && r.path.includes('/Recordings'))
    .map((r) =>
      r.path.endsWith('/Recordings.json')
        ? `start ${r.form.get('RecordingChannels')}`
        : String(r.form.get('Status')),
    );

test('consent first, then a recording, paused while card digits are typed, its callbacks journaled', async () => {
  const client = lazyRestClient({ accountSid: ACCOUNT, authToken: TOKEN, apiUrl: twilio.url }, 5000)();
  const call = await client.calls.create({
    to: '+15550007001',
    from: '+15550007000',
    url: `${server.url}/twilio/voice?flow=recorded`,
  });
  const voice = await twilio.waitFor((e) => e.type === 'webhook' && e.webhook.kind === 'voice', 5000);
  assert.ok(voice.type === 'webhook');
  const stream = await streamFromTwiml(TOKEN, call.sid, voice.webhook.body);

  await until(() => recordingRequests().length === 1, 'the recording starts');
  assert.deepEqual(recordingRequests(), ['start dual']);
  const journal = await readJournal(server.journals.store, call.sid);
  const said = journal.flatMap((r) =>
    r.kind === 'eff' && r.effect.type === 'say' ? [String(r.effect.text)] : [],
  );
  assert.equal(said[0], CONSENT, 'the consent line is the first thing said');
  await until(
    async () =>
      (await readRecordings(server.journals.store, call.sid)).some((r) => r.status === 'in-progress'),
    'its in-progress callback is journaled',
  );

  stream.send(stream.enc.dtmf('1'));
  await until(() => recordingRequests().includes('paused'), 'the recording pauses in the sensitive state');
  for (const digit of '4242#') stream.send(stream.enc.dtmf(digit));
  await until(() => recordingRequests().at(-1) === 'in-progress', 'the recording resumes after it');
  assert.deepEqual(recordingRequests(), ['start dual', 'paused', 'in-progress']);
  const recording = twilio.call(call.sid)!.recordings[0]!;
  assert.equal(recording.channels, 2);
  assert.equal(recording.status, 'in-progress');

  stream.send(stream.enc.stop());
  await stream.closed;
  await twilio.complete(call.sid);
  await until(
    async () => (await readRecordings(server.journals.store, call.sid)).some((r) => r.status === 'completed'),
    'its completed callback is journaled',
  );
  const [done] = await readRecordings(server.journals.store, call.sid);
  assert.equal(done!.sid, recording.sid);
  assert.match(done!.url ?? '', new RegExp(`/Recordings/${recording.sid}$`));
  const started = (await readJournal(server.journals.store, call.sid)).find(
    (r) => r.kind === 'in' && r.event.type === 'record.started',
  );
  assert.equal(
    started?.kind === 'in' && started.event.sid,
    recording.sid,
    'the SID is journaled with the call',
  );
  await waitForLog(server.records, (r) => r.msg === 'call recording status' && r.status === 'completed');
});
