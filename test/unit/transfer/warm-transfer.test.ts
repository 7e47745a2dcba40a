/**
 * A warm transfer's journal and TwiML: the first outcome wins (a person taking the call and their call's end
 * racing on two instances), a transfer taken up again keeps its records, and whatever is interpolated into the
 * TwiML is escaped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../../../src/journal/memory.ts';
import { holdInConference, joinConference, whisperTwiml } from '../../../src/telephony/conference-twiml.ts';
import {
  addToTransfer,
  beginTransfer,
  outcomeEntries,
  readTransfer,
} from '../../../src/transfer/transfer-journal.ts';

const CALL = 'CA' + 'a'.repeat(32);
const START = {
  callSid: CALL,
  id: 'connect.6',
  to: '+15550008000',
  from: '+15550009000',
  room: 'sb-1',
  flow: 'desk',
};

test('a transfer begins once; the first outcome wins, whichever instance writes it', async () => {
  const store = new MemoryStore();
  assert.equal(await beginTransfer(store, 'a', START, 1000), true);
  assert.equal(await beginTransfer(store, 'b', START, 1001), false, 'taken up again, not begun again');
  await addToTransfer(
    store,
    'a',
    CALL,
    START.id,
    () => [{ kind: 'in', event: { type: 'transfer.held' } }],
    1002,
  );
  const [taken, returned] = await Promise.all([
    addToTransfer(store, 'a', CALL, START.id, () => outcomeEntries({ taken: true }), 1003),
    addToTransfer(
      store,
      'b',
      CALL,
      START.id,
      () => outcomeEntries({ taken: false, reason: 'no answer' }),
      1003,
    ),
  ]);
  assert.equal(Number(taken) + Number(returned), 1, 'exactly one outcome is written');
  const transfer = await readTransfer(store, CALL, START.id);
  assert.equal(transfer?.held, true);
  assert.deepEqual(transfer?.outcome, taken ? { taken: true } : { taken: false, reason: 'no answer' });
  assert.equal(
    await addToTransfer(
      store,
      'a',
      CALL,
      START.id,
      () => outcomeEntries({ taken: false, reason: 'busy' }),
      1004,
    ),
    false,
    'nothing after the outcome',
  );
  assert.equal(await readTransfer(store, CALL, 'other.1'), null);
});

test('the TwiML: the caller waits (hold audio by GET), the person starts the room, the whisper is escaped', () => {
  const hold = holdInConference('sb-1', 'https://example.com/hold.mp3?a=1&b=2');
  assert.match(hold, /<Conference startConferenceOnEnter="false" endConferenceOnExit="true"/);
  assert.match(hold, /waitUrl="https:\/\/example\.com\/hold\.mp3\?a=1&amp;b=2" waitMethod="GET">sb-1</);
  assert.doesNotMatch(holdInConference('sb-1', null), /waitUrl/, "Twilio's own hold music");
  assert.match(joinConference('sb-1'), /startConferenceOnEnter="true" endConferenceOnExit="true"/);
  const whisper = whisperTwiml(
    'Ada <& Bob> is calling.',
    'https://switchboard.example/twilio/transfer?x=1&y=2',
  );
  assert.match(whisper, /<Say>Ada &lt;&amp; Bob&gt; is calling\.<\/Say>/);
  assert.match(whisper, /action="https:\/\/switchboard\.example\/twilio\/transfer\?x=1&amp;y=2"/);
  assert.match(whisper, /actionOnEmptyResult="true"/, 'no key at all is an answer too');
  assert.throws(() => holdInConference('a room', null), { code: 'CALL_CONTROL_INVALID' });
  assert.throws(() => holdInConference('sb-1', 'ftp://x'), { code: 'CALL_CONTROL_INVALID' });
  assert.throws(() => whisperTwiml('Hi.', '/relative'), { code: 'CALL_CONTROL_INVALID' });
});
