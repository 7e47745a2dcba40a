import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacerClock } from '../../../src/audio/pacer.ts';
import { MediaSession } from '../../../src/call/session.ts';
import { compileFlow, validateFlow, type CompiledFlow } from '../../../src/flow/index.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { createServerMetrics } from '../../../src/observability/metrics.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { InboundEncoder } from '../../../src/telephony/media-streams.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';
import { RecordingSocket } from '../../fakes/recording-socket.ts';
import { streamParams, testJournals } from '../../fixtures/journals.ts';

// Prompts of a few characters make tones of a few hundred ms, played on a manual clock: time passes only as the
// tests move it.
const FLOW = {
  id: 'tiny',
  version: 1,
  start: 'ask',
  states: {
    ask: { say: 'press', on: { 'dtmf:1': 'bye', 'dtmf:2': 'next' } },
    next: { say: 'ok', next: 'bye' },
    bye: { say: 'bye', hangup: true },
  },
  policy: { noInputMs: 5000 },
};

function compiled(flow: object = FLOW): CompiledFlow {
  const result = validateFlow(flow);
  assert.ok(result.ok);
  return compileFlow(result.flow);
}

async function session(
  flow: object = FLOW,
  quietLimits?: { noStartMs: number; idleMs: number },
  journalOptions: { maxRecords?: number } = {},
) {
  const socket = new RecordingSocket();
  const journals = await testJournals(undefined, journalOptions);
  const { logger, records } = memoryLogger();
  const time = new ManualClock();
  const clock = new PacerClock({ clock: time });
  const metrics = createServerMetrics();
  const s = new MediaSession(socket, {
    flows: new Map([['tiny', compiled(flow)]]),
    journals,
    defaultFlow: 'tiny',
    prompts: new PromptCache(new ToneTts()),
    pacerClock: clock,
    clock: time,
    metrics,
    logger,
    ...(quietLimits ? { quietLimits } : {}),
  });
  const enc = new InboundEncoder({ streamSid: 'MZ1', callSid: 'CA1', accountSid: 'AC1' });
  /** Moves time 20 ms at a time, letting journal writes and synthesis run, until `pred` holds. */
  const until = async (pred: () => boolean, ms = 5000) => {
    for (let waited = 0; !pred(); waited += 20) {
      if (waited > ms) throw new Error('condition not met in time');
      await time.tick(20);
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  /** Lets `ms` of call time pass. */
  const pass = async (ms: number) => {
    for (let waited = 0; waited < ms; waited += 20) {
      await time.tick(20);
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  /** The stream's start message, with the call's ticket as the voice webhook issues it. */
  const start = async (flow?: string) => enc.start(await streamParams(journals, 'CA1', flow));
  return { socket, s, enc, records, clock, metrics, until, pass, start, journals };
}

test('a prompt is sent as 20 ms frames followed by its mark; the echo moves the flow on', async () => {
  const { socket, s, enc, until, start } = await session();
  s.handleMessage(enc.connected());
  s.handleMessage(await start('tiny'));
  await until(() => socket.marks().length === 1);
  const frames = socket.sent.filter((m) => m.event === 'media');
  // "press" = 5 characters = 300 ms of tone = 15 frames.
  assert.equal(frames.length, 15);
  assert.equal(socket.sent.at(-1)?.event, 'mark');
  s.handleMessage(enc.mark(socket.marks()[0]!));
  s.handleMessage(enc.dtmf('2'));
  await s.settled();
  assert.equal(s.flowState, 'next');
  await until(() => socket.marks().length === 2);
  s.handleMessage(enc.mark(socket.marks()[1]!));
  await s.settled();
  assert.equal(s.flowState, 'bye');
});

test('hangup waits until the last prompt has been heard, then closes the stream normally', async () => {
  const { socket, s, enc, until, pass, start } = await session();
  s.handleMessage(enc.connected());
  s.handleMessage(await start());
  await until(() => socket.marks().length === 1);
  s.handleMessage(enc.mark(socket.marks()[0]!));
  s.handleMessage(enc.dtmf('1'));
  await until(() => socket.marks().length === 2);
  await pass(1000);
  assert.equal(socket.closed, null, 'not closed before the goodbye was heard');
  s.handleMessage(enc.mark(socket.marks()[1]!));
  await until(() => socket.closed !== null);
  assert.equal(socket.closeCode(), 1000);
  assert.equal(s.phase, 'ended');
});

test('a key during a prompt sends clear; the cleared mark echo is not taken as heard', async () => {
  const { socket, s, enc, until, records, metrics, start } = await session();
  s.handleMessage(enc.connected());
  s.handleMessage(await start());
  await until(() => socket.marks().length === 1);
  const greeting = socket.marks()[0]!;
  s.handleMessage(enc.dtmf('2')); // barge-in: the greeting's mark is still in flight
  await s.settled();
  assert.ok(socket.sent.some((m) => m.event === 'clear'));
  assert.equal(s.flowState, 'next');
  s.handleMessage(enc.mark(greeting)); // Twilio echoes cleared marks
  await s.settled();
  assert.equal(s.flowState, 'next', 'the stale echo did not advance the flow');
  assert.ok(records.some((r) => r.msg === 'prompt interrupted' && r.mark === greeting));
  assert.equal(metrics.bargeIns.get(), 0, 'a key that cuts the prompt is not a barge-in of speech');
});

test('a key during the first sentence of a prompt clears it, though no mark has been sent yet', async () => {
  const flow = {
    ...FLOW,
    states: { ...FLOW.states, ask: { ...FLOW.states.ask, say: 'Hello there. Press.' } },
  };
  const { socket, s, enc, until, start } = await session(flow);
  s.handleMessage(enc.connected());
  s.handleMessage(await start());
  await until(() => socket.sent.some((m) => m.event === 'media'));
  assert.deepEqual(socket.marks(), [], 'the first sentence carries no mark');
  s.handleMessage(enc.dtmf('1'));
  await s.settled();
  assert.ok(socket.sent.some((m) => m.event === 'clear'));
  assert.equal(s.flowState, 'bye');
});

test('stop ends the call; later messages are ignored and nothing more is sent', async () => {
  const { socket, s, enc, until, pass, clock, metrics, start } = await session();
  s.handleMessage(enc.connected());
  s.handleMessage(await start());
  await until(() => socket.sent.length > 0);
  assert.equal(metrics.callsActive.get(), 1);
  s.handleMessage(enc.stop());
  const count = socket.sent.length;
  s.handleMessage(enc.dtmf('1'));
  await pass(1000);
  assert.equal(socket.sent.length, count);
  assert.equal(s.phase, 'ended');
  assert.equal(clock.size, 0, 'the pacer left the shared clock');
  assert.equal(metrics.callsActive.get(), 0);
});

test('a call whose journal reaches its cap ends for good: the stream closes normally, the journal is closed', async () => {
  const { socket, s, enc, records, until, pass, start, journals } = await session(FLOW, undefined, {
    maxRecords: 60,
  });
  s.handleMessage(enc.connected());
  s.handleMessage(await start('tiny'));
  await until(() => socket.marks().length === 1);
  // A key the state does not take is journaled all the same (its event and the state after it).
  let pressed = 0;
  for (; pressed < 100 && socket.closed === null; pressed++) {
    s.handleMessage(enc.dtmf('9'));
    await pass(200);
  }
  await until(() => socket.closed !== null);
  assert.ok(pressed > 10 && pressed < 100, `${pressed} keys before the cap`);
  assert.equal(socket.closed?.code, 1000);
  const ended = records.find((r) => r.msg === 'call ended');
  assert.equal(ended?.reason, 'journal full');
  assert.ok(records.some((r) => r.msg === 'call journal full; the call ends' && r.maxRecords === 60));
  const stored = await journals.store.read('CA1');
  assert.ok(stored.length <= 61, `${stored.length} records: the cap and the end record`);
  assert.match(stored.at(-1)!.line, /"kind":"end","reason":"journal full"/);
  assert.deepEqual(await journals.afterStream('CA1'), { kind: 'ended' }, 'Twilio is told to hang up');
});

test('an unknown flow ends the stream with a policy close and a typed log line', async () => {
  const { socket, s, enc, records, start, until } = await session();
  s.handleMessage(enc.connected());
  s.handleMessage(await start('missing'));
  await until(() => socket.closed !== null);
  assert.equal(socket.closed?.code, 1008);
  assert.ok(records.some((r) => r.msg === 'media stream rejected' && r.code === 'FLOW_NOT_FOUND'));
});

test('a peer that stops reading is cut off instead of buffering without bound', async () => {
  const { socket, s, enc, until, records, start } = await session();
  socket.bufferedAmount = 2 << 20;
  s.handleMessage(enc.connected());
  s.handleMessage(await start());
  await until(() => socket.closed !== null);
  assert.equal(socket.closed?.code, 1008);
  assert.ok(records.some((r) => r.msg === 'call ended' && r.reason === 'peer is not reading'));
});

test('a socket that never starts a stream is closed after noStartMs, as bad input', async () => {
  const { socket, s, enc, records, pass } = await session(FLOW, { noStartMs: 1000, idleMs: 3000 });
  s.handleMessage(enc.connected());
  await pass(900);
  assert.equal(socket.closed, null, 'still waiting');
  await pass(600);
  assert.equal(socket.closeCode(), 1002);
  assert.ok(records.some((r) => r.msg === 'media stream rejected' && r.code === 'MEDIA_NO_START'));
});

const SILENT_FRAME = Buffer.alloc(160, 0xff).toString('base64');

test('a live stream that goes quiet for idleMs is taken as dropped; its call stays open to resume', async () => {
  const { socket, s, enc, records, pass, until, start, journals } = await session(FLOW, {
    noStartMs: 1000,
    idleMs: 3000,
  });
  s.handleMessage(enc.connected());
  s.handleMessage(await start('tiny'));
  await until(() => socket.marks().length === 1);
  // Messages keep it alive, however long the call.
  for (let i = 0; i < 5; i++) {
    await pass(2000);
    s.handleMessage(enc.media(SILENT_FRAME, i * 20));
  }
  assert.equal(socket.closed, null);
  await pass(3500);
  assert.equal(socket.closeCode(), 1001);
  const ended = records.find((r) => r.msg === 'call ended');
  assert.equal(ended?.reason, 'stream dropped');
  assert.equal(ended?.code, 'MEDIA_IDLE');
  assert.equal((await journals.store.summary('CA1'))?.ended, false, 'resumable');
});
