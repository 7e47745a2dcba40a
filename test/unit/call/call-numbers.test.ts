/**
 * How a call reached its flow, from where the call starts: a media stream's parameters (`from`, `to`, and the
 * `direction` the outbound dialer sets) reach `{{call.NAME}}` in its prompts; a text chat is inbound with no
 * numbers. The numbers ride on the journaled `call.start`, so the call replays identically, and a journal
 * whose `call.start` has no `call` (from before it) still replays; the event's body is sealed when keyed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacerClock } from '../../../src/audio/pacer.ts';
import { replayCall } from '../../../src/call/replay.ts';
import { MediaSession } from '../../../src/call/session.ts';
import { TextCall } from '../../../src/call/text-call.ts';
import { compileFlow, validateFlow, type CompiledFlow } from '../../../src/flow/index.ts';
import { parseKey } from '../../../src/journal/keyring.ts';
import { decodeRecord, encodeRecord, type JournalRecord } from '../../../src/journal/records.ts';
import { sealRecord } from '../../../src/journal/sealing.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { createServerMetrics } from '../../../src/observability/metrics.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { InboundEncoder } from '../../../src/telephony/media-streams.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';
import { RecordingSocket } from '../../fakes/recording-socket.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';
import { streamParams, testJournals } from '../../fixtures/journals.ts';

const FROM = '+15555550123';
const TO = '+15555550100';

function compiled(say: string): CompiledFlow {
  const result = validateFlow({
    id: 'numbers',
    version: 1,
    start: 'hello',
    states: {
      hello: { say, on: { 'dtmf:1': 'bye' } },
      bye: { say: 'bye', hangup: true },
    },
  });
  assert.ok(result.ok, JSON.stringify(result.findings));
  return compileFlow(result.flow);
}

/**
 * A media stream on a flow whose first prompt is `say`, started with the call's ticket and `extra` stream
 * parameters; the caller presses 1 once it is heard, and hears the goodbye. Resolves with what the agent said
 * and the call's journal.
 */
async function streamCall(say: string, extra: Record<string, string>) {
  const socket = new RecordingSocket();
  const journals = await testJournals();
  const time = new ManualClock();
  const tts = new ToneTts({ msPerChar: 5 });
  const flow = compiled(say);
  const s = new MediaSession(socket, {
    flows: new Map([['numbers', flow]]),
    journals,
    defaultFlow: 'numbers',
    prompts: new PromptCache(tts),
    pacerClock: new PacerClock({ clock: time }),
    clock: time,
    metrics: createServerMetrics(),
    logger: memoryLogger().logger,
  });
  const enc = new InboundEncoder({ streamSid: 'MZ1', callSid: 'CA1', accountSid: 'AC1' });
  const until = async (pred: () => boolean) => {
    for (let waited = 0; !pred(); waited += 20) {
      if (waited > 5000) throw new Error('condition not met in time');
      await time.tick(20);
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start({ ...(await streamParams(journals, 'CA1', 'numbers')), ...extra }));
  await until(() => socket.marks().length === 1);
  s.handleMessage(enc.mark(socket.marks()[0]!));
  s.handleMessage(enc.dtmf('1'));
  await until(() => socket.marks().length === 2);
  s.handleMessage(enc.mark(socket.marks()[1]!));
  await until(() => socket.closed !== null);
  await s.settled();
  const records = (await journals.store.read('CA1')).map((r) => decodeRecord(r.line));
  return { said: tts.requests.map((r) => r.text), records, flow };
}

/** The journaled `call.start`. */
function callStart(records: readonly JournalRecord[]): Extract<JournalRecord, { kind: 'in' }> {
  const record = records.find((r) => r.kind === 'in' && r.event.type === 'call.start');
  assert.ok(record?.kind === 'in');
  return record;
}

/** `records` with the `call.start` event changed by `change`. */
function withStart(
  records: readonly JournalRecord[],
  change: (event: Record<string, unknown>) => void,
): JournalRecord[] {
  return records.map((r) => {
    if (r.kind !== 'in' || r.event.type !== 'call.start') return r;
    const event: Record<string, unknown> = structuredClone(r.event);
    change(event);
    return { ...r, event } as JournalRecord;
  });
}

test("a stream's from and to reach the prompt; the call replays identically, and tampered numbers do not", async () => {
  const { said, records, flow } = await streamCall('You called from {{call.from|digits}}.', {
    from: FROM,
    to: TO,
  });
  assert.deepEqual(said, ['You called from +, 1, 5, 5, 5, 5, 5, 5, 0, 1, 2, 3.', 'bye']);
  assert.deepEqual(callStart(records).event.call, { direction: 'inbound', from: FROM, to: TO });
  const start = records[0];
  assert.ok(start?.kind === 'start');
  assert.deepEqual(start.params, { flow: 'numbers', from: FROM, to: TO }, 'the start record keeps them too');

  const replayed = await replayCall(flow, records);
  assert.equal(replayed.divergence, null);
  assert.ok(replayed.events >= 4);
  // Negative control: another number in the journaled event is caught where the prompt differs.
  const tampered = await replayCall(
    flow,
    withStart(records, (event) => ((event.call as { from: string }).from = '+15555550999')),
  );
  assert.equal(tampered.divergence?.what, 'effects');
});

test('a journal whose call.start has no call (from before it) replays as an inbound call', async () => {
  const { said, records, flow } = await streamCall('This is an {{call.direction}} call.', { from: FROM });
  assert.equal(said[0], 'This is an inbound call.');
  const old = withStart(records, (event) => delete event.call);
  assert.equal('call' in callStart(old).event, false);
  assert.equal((await replayCall(flow, old)).divergence, null);
});

test('the direction stream parameter makes an outbound call; any other value is inbound', async () => {
  const outbound = await streamCall('{{call.direction}} to {{call.to}}', { direction: 'outbound', to: TO });
  assert.equal(outbound.said[0], `outbound to ${TO}`);
  assert.deepEqual(callStart(outbound.records).event.call, { direction: 'outbound', to: TO });
  const odd = await streamCall('{{call.direction}} [{{call.from}}]', { direction: 'sideways' });
  assert.equal(odd.said[0], 'inbound []', 'unknown numbers read as nothing');
});

test('with a journal key, the numbers in the journaled call.start are sealed', async () => {
  const { records } = await streamCall('Hello {{call.from}}.', { from: FROM, to: TO });
  const sealed = encodeRecord(sealRecord(callStart(records), parseKey('a'.repeat(64), 'test')));
  assert.doesNotMatch(sealed, /5555550/);
  assert.match(sealed, /"type":"call.start"/);
});

test('a text chat is an inbound call with no numbers', async () => {
  const said: string[] = [];
  const c = new TextCall({
    compiled: compiled('{{call.direction}} [{{call.from|digits}}] [{{call.to}}]'),
    logger: memoryLogger().logger,
    onSay: (text) => said.push(text),
    env: {},
  });
  c.start();
  await c.settled();
  assert.deepEqual(said, ['inbound [] []']);
  assert.deepEqual(callStart(await c.records()).event.call, { direction: 'inbound' });
  c.hangup();
  await c.finished;
});
