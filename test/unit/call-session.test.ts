import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacerClock } from '../../src/audio/pacer.ts';
import { MediaSession } from '../../src/call/session.ts';
import { compileFlow, validateFlow, type CompiledFlow } from '../../src/flow/index.ts';
import { memoryLogger } from '../../src/observability/logger.ts';
import { createServerMetrics } from '../../src/observability/metrics.ts';
import { PromptCache } from '../../src/speech/tts/prompt-cache.ts';
import { InboundEncoder } from '../../src/telephony/media-streams.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { RecordingSocket } from '../fakes/recording-socket.ts';

/** A socket double that records what the session sends. */
// Prompts of a few characters make tones of a few hundred ms: the test runs in real time, but briefly.
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

function session(flow: object = FLOW) {
  const socket = new RecordingSocket();
  const { logger, records } = memoryLogger();
  const clock = new PacerClock();
  const metrics = createServerMetrics();
  const s = new MediaSession(socket, {
    flows: new Map([['tiny', compiled(flow)]]),
    defaultFlow: 'tiny',
    prompts: new PromptCache(new ToneTts()),
    pacerClock: clock,
    metrics,
    logger,
  });
  const enc = new InboundEncoder({ streamSid: 'MZ1', callSid: 'CA1', accountSid: 'AC1' });
  const until = async (pred: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { socket, s, enc, records, clock, metrics, until };
}

test('a prompt is sent as 20 ms frames followed by its mark; the echo moves the flow on', async () => {
  const { socket, s, enc, until } = session();
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start({ flow: 'tiny' }));
  await until(() => socket.marks().length === 1);
  const frames = socket.sent.filter((m) => m.event === 'media');
  // "press" = 5 characters = 300 ms of tone = 15 frames.
  assert.equal(frames.length, 15);
  assert.equal(socket.sent.at(-1)?.event, 'mark');
  s.handleMessage(enc.mark(socket.marks()[0]!));
  s.handleMessage(enc.dtmf('2'));
  assert.equal(s.flowState, 'next');
  await until(() => socket.marks().length === 2);
  s.handleMessage(enc.mark(socket.marks()[1]!));
  assert.equal(s.flowState, 'bye');
});

test('hangup waits until the last prompt has been heard, then closes the stream normally', async () => {
  const { socket, s, enc, until } = session();
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start({}));
  await until(() => socket.marks().length === 1);
  s.handleMessage(enc.mark(socket.marks()[0]!));
  s.handleMessage(enc.dtmf('1'));
  await until(() => socket.marks().length === 2);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(socket.closed, null, 'not closed before the goodbye was heard');
  s.handleMessage(enc.mark(socket.marks()[1]!));
  await until(() => socket.closed !== null);
  assert.equal(socket.closeCode(), 1000);
  assert.equal(s.phase, 'ended');
});

test('a key during a prompt sends clear; the cleared mark echo is not taken as heard', async () => {
  const { socket, s, enc, until, records } = session();
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start({}));
  await until(() => socket.marks().length === 1);
  const greeting = socket.marks()[0]!;
  s.handleMessage(enc.dtmf('2')); // barge-in: the greeting's mark is still in flight
  assert.ok(socket.sent.some((m) => m.event === 'clear'));
  assert.equal(s.flowState, 'next');
  s.handleMessage(enc.mark(greeting)); // Twilio echoes cleared marks
  assert.equal(s.flowState, 'next', 'the stale echo did not advance the flow');
  assert.ok(records.some((r) => r.msg === 'prompt interrupted' && r.mark === greeting));
});

test('a key during the first sentence of a prompt clears it, though no mark has been sent yet', async () => {
  const flow = {
    ...FLOW,
    states: { ...FLOW.states, ask: { ...FLOW.states.ask, say: 'Hello there. Press.' } },
  };
  const { socket, s, enc, until } = session(flow);
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start({}));
  await until(() => socket.sent.some((m) => m.event === 'media'));
  assert.deepEqual(socket.marks(), [], 'the first sentence carries no mark');
  s.handleMessage(enc.dtmf('1'));
  assert.ok(socket.sent.some((m) => m.event === 'clear'));
  assert.equal(s.flowState, 'bye');
});

test('stop ends the call; later messages are ignored and nothing more is sent', async () => {
  const { socket, s, enc, until, clock, metrics } = session();
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start({}));
  await until(() => socket.sent.length > 0);
  assert.equal(metrics.callsActive.get(), 1);
  s.handleMessage(enc.stop());
  const count = socket.sent.length;
  s.handleMessage(enc.dtmf('1'));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(socket.sent.length, count);
  assert.equal(s.phase, 'ended');
  assert.equal(clock.size, 0, 'the pacer left the shared clock');
  assert.equal(metrics.callsActive.get(), 0);
});

test('an unknown flow ends the stream with a policy close and a typed log line', () => {
  const { socket, s, enc, records } = session();
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start({ flow: 'missing' }));
  assert.equal(socket.closed?.code, 1008);
  assert.ok(records.some((r) => r.msg === 'media stream rejected' && r.code === 'FLOW_NOT_FOUND'));
});

test('a peer that stops reading is cut off instead of buffering without bound', async () => {
  const { socket, s, enc, until, records } = session();
  socket.bufferedAmount = 2 << 20;
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start({}));
  await until(() => socket.closed !== null);
  assert.equal(socket.closed?.code, 1008);
  assert.ok(records.some((r) => r.msg === 'call ended' && r.reason === 'peer is not reading'));
});
