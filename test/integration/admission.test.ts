/**
 * Admission control on a real server: with MAX_CALLS=2 and two calls streaming, a third new call hears the busy
 * message and is journaled as refused, `/readyz` says busy and `/metrics` counts the refusal; a call resumed from
 * its journal is still taken at the limit; and once calls end, new calls are admitted again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readJournal } from '../../src/call/call-journal.ts';
import type { CallJournals } from '../../src/call/journals.ts';
import { FlowLibrary } from '../../src/config/flow-library.ts';
import { memoryLogger, type LogRecord } from '../../src/observability/logger.ts';
import { BUSY_MESSAGE } from '../../src/server/admission.ts';
import { SwitchboardApp } from '../../src/server/app.ts';
import { readTwiml } from '../../src/simulator/twiml-reader.ts';
import { PromptCache } from '../../src/speech/tts/prompt-cache.ts';
import { REFUSAL_HEADER } from '../../src/telephony/twiml.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { copyExampleFlows, type FlowsCopy } from '../fixtures/example-flows.ts';
import { testJournals } from '../fixtures/journals.ts';
import { RawStream } from '../support/harness.ts';

let app: SwitchboardApp;
let url: string;
let journals: CallJournals;
let records: LogRecord[];
let flowsCopy: FlowsCopy;
let flows: FlowLibrary;
const streams: RawStream[] = [];

const sid = (n: number): string => 'CA' + String(n).padStart(32, '0');

before(async () => {
  const log = memoryLogger('debug');
  records = log.records;
  flowsCopy = await copyExampleFlows();
  flows = new FlowLibrary({ dir: flowsCopy.dir, logger: log.logger });
  await flows.load();
  journals = await testJournals();
  app = new SwitchboardApp({
    flows: flows.flows,
    journals,
    defaultFlow: 'demo',
    prompts: new PromptCache(new ToneTts({ msPerChar: 5 })),
    logger: log.logger,
    twilioAuthToken: null,
    publicUrl: null,
    // Saturation set out of reach: this test is about the limit, on a machine other tests keep busy.
    admission: {
      enabled: true,
      maxCalls: 2,
      busyAnswer: 'say',
      saturation: {
        loopDelayMs: 60_000,
        framesLatePerS: 10_000_000,
        droppedPerS: 10_000_000,
        slowTurnsShare: 1,
      },
    },
  });
  await app.listen(0, '127.0.0.1');
  url = app.publicUrl;
});

after(async () => {
  for (const s of streams) s.ws.terminate();
  await app.close();
  await flows.close();
  await flowsCopy.remove();
});

/** What Twilio does for an incoming call: post the voice webhook. */
async function voice(callSid: string): Promise<Response> {
  return fetch(`${url}/twilio/voice`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ CallSid: callSid, From: '+15555550123', To: '+15555550199' }),
  });
}

/** Open the stream the TwiML points at, start it with its parameters and wait for the agent's first audio. */
async function stream(callSid: string, twiml: string): Promise<RawStream> {
  const connect = readTwiml(twiml).connect;
  assert.ok(connect, 'the call is connected to a stream');
  const s = new RawStream(connect.streamUrl, callSid);
  streams.push(s);
  await s.opened;
  s.send(s.enc.connected());
  s.send(s.enc.start(connect.parameters));
  await s.waitFor((m) => m.includes('"event":"media"'));
  return s;
}

async function readyz(): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.json() };
}

test('MAX_CALLS=2: the third call is refused and journaled as refused; a resume is taken; ended calls free places', async () => {
  assert.deepEqual(await readyz(), { status: 200, body: { status: 'ready', calls: 0, limit: 2 } });
  const first = await stream(sid(1), await (await voice(sid(1))).text());
  await stream(sid(2), await (await voice(sid(2))).text());

  // The third caller hears the busy message and is hung up on; no stream, no call journal beyond the refusal.
  const refused = await voice(sid(3));
  assert.equal(refused.status, 200);
  assert.match(refused.headers.get(REFUSAL_HEADER) ?? '', /^All lines are busy.*\(max_calls\)$/);
  const said = readTwiml(await refused.text());
  assert.deepEqual(said, { say: [BUSY_MESSAGE], hangup: true, connect: null });
  const journal = await readJournal(journals.store, sid(3));
  assert.deepEqual(
    journal.map((r) => (r.kind === 'end' ? `end: ${r.reason}` : r.kind)),
    ['end: refused: all lines busy (max_calls)'],
  );
  assert.deepEqual(await readyz(), {
    status: 503,
    body: { status: 'busy', reason: 'max_calls', calls: 2, limit: 2 },
  });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /^switchboard_calls_refused_total\{reason="max_calls"\} 1$/m);
  const line = records.find((r) => r.msg === 'call refused: all lines busy');
  assert.equal(line?.callId, sid(3));
  assert.ok(!line.msg.includes('555'), 'no phone number in the message text');
  // The calls in progress go on.
  assert.ok(!records.some((r) => r.msg === 'call ended'), 'no call ended because of the refusal');

  // A call whose stream dropped on another instance is resumed here even at the limit.
  await journals.admit(sid(4));
  const resume = await fetch(`${url}/twilio/connect-ended`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ CallSid: sid(4) }),
  });
  const resumed = await stream(sid(4), await resume.text());
  assert.deepEqual(await readyz(), {
    status: 503,
    body: { status: 'busy', reason: 'max_calls', calls: 3, limit: 2 },
  });

  // Two calls end: one place is free again, and the next new call is admitted.
  for (const s of [first, resumed]) {
    s.send(s.enc.stop());
    await s.closed;
  }
  assert.deepEqual(await readyz(), { status: 200, body: { status: 'ready', calls: 1, limit: 2 } });
  const admitted = readTwiml(await (await voice(sid(5))).text());
  assert.ok(admitted.connect, 'a new call is connected again');
  assert.equal(admitted.say.length, 0);
  assert.equal(
    (await (await fetch(`${url}/metrics`)).text()).match(
      /switchboard_calls_refused_total\{[^}]*\} (\d+)/,
    )?.[1],
    '1',
    'only the one refusal was counted',
  );
});
