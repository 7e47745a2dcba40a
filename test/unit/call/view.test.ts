import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { pcmToMulaw } from '../../../src/audio/mulaw.ts';
import { PacerClock } from '../../../src/audio/pacer.ts';
import { CallViews, type CallViewEvent } from '../../../src/call/call-view.ts';
import { FRAME_SAMPLES } from '../../../src/audio/frames.ts';
import { CallListener } from '../../../src/call/listener.ts';
import { openEnergyVad } from '../../../src/speech/vad/energy.ts';
import { MediaSession } from '../../../src/call/session.ts';
import { compileFlow, validateFlow } from '../../../src/flow/index.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { createServerMetrics } from '../../../src/observability/metrics.ts';
import type { SttEngine } from '../../../src/speech/stt/engine.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { InboundEncoder } from '../../../src/telephony/media-streams.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';
import { RecordingSocket } from '../../fakes/recording-socket.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';
import { streamParams, testJournals } from '../../fixtures/journals.ts';

const hearing = (text: string, at = 0): CallViewEvent => ({ type: 'hearing', at, text });

test('call view: subscribers get what is published for their call, in order, and nothing of other calls', () => {
  const views = new CallViews();
  views.open('CA1');
  views.open('CA2');
  const got: CallViewEvent[] = [];
  const unsubscribe = views.subscribe('CA1', (e) => got.push(e));
  assert.ok(unsubscribe);
  views.publish('CA1', { type: 'state', at: 1, state: 'greet', slots: {} });
  views.publish('CA2', hearing('not mine'));
  views.publish('CA1', {
    type: 'turn',
    at: 2,
    via: 'speech',
    text: 'a pizza',
    intent: 'order',
    confidence: 0.9,
  });
  assert.deepEqual(
    got.map((e) => e.type),
    ['state', 'turn'],
  );
});

test('call view: a call never opened is not kept, cannot be subscribed to, and publishing to it is a no-op', () => {
  const views = new CallViews();
  views.publish('CAphone', hearing('a phone caller'));
  assert.equal(views.has('CAphone'), false);
  assert.deepEqual(views.history('CAphone'), []);
  assert.equal(
    views.subscribe('CAphone', () => {}),
    null,
  );
});

test('call view: a late subscriber gets the history first, bounded to the last events', () => {
  const views = new CallViews({ maxEvents: 5 });
  views.open('CA1');
  for (let i = 0; i < 12; i++) views.publish('CA1', hearing(`w${i}`, i));
  assert.deepEqual(
    views.history('CA1').map((e) => e.at),
    [7, 8, 9, 10, 11],
  );
  const got: number[] = [];
  views.subscribe('CA1', (e) => got.push(e.at));
  views.publish('CA1', hearing('w12', 12));
  assert.deepEqual(got, [7, 8, 9, 10, 11, 12]);
});

test('call view: unsubscribing stops delivery; a listener that throws does not reach the publisher', () => {
  const views = new CallViews();
  views.open('CA1');
  const got: string[] = [];
  const unsubscribe = views.subscribe('CA1', (e) => got.push(e.type))!;
  views.subscribe('CA1', () => {
    throw new Error('a page that went away');
  });
  views.publish('CA1', hearing('one'));
  unsubscribe();
  assert.doesNotThrow(() => views.publish('CA1', hearing('two')));
  assert.deepEqual(got, ['hearing']);
});

test('call view: an ended call is forgotten a while after it ends', () => {
  const clock = new ManualClock();
  const views = new CallViews({ forgetAfterMs: 20, clock });
  views.open('CA1');
  views.publish('CA1', { type: 'ended', at: 5, reason: 'caller hung up' });
  // Still there just after the end, for a page that subscribes late.
  const late: string[] = [];
  views.subscribe('CA1', (e) => late.push(e.type));
  assert.deepEqual(late, ['ended']);
  clock.advance(19);
  assert.equal(views.has('CA1'), true);
  clock.advance(1);
  assert.equal(views.has('CA1'), false);
  assert.equal(
    views.subscribe('CA1', () => {}),
    null,
  );
});

test('call view: past maxCalls the oldest call is forgotten; close forgets all', () => {
  const views = new CallViews({ maxCalls: 2 });
  views.open('CA1');
  views.open('CA2');
  views.open('CA3');
  assert.deepEqual(
    ['CA1', 'CA2', 'CA3'].map((c) => views.has(c)),
    [false, true, true],
  );
  views.close();
  assert.equal(views.has('CA2') || views.has('CA3'), false);
});

test("call view: the listener hands on the current turn's interim transcripts (for 'hearing'), not the final", () => {
  const interims: string[] = [];
  const finals: string[] = [];
  // An engine that revises its guess on every frame, then answers the final at the end of the turn.
  const stt: SttEngine = {
    name: 'interim (test double)',
    stream: (req) => {
      let frames = 0;
      return {
        write: () => {
          frames += 1;
          if (frames % 10 === 0)
            req.onTranscript({
              text: `guess ${frames}`,
              final: false,
              confidence: null,
              startMs: 0,
              endMs: 0,
            });
        },
        endUtterance: () =>
          req.onTranscript({ text: 'large', final: true, confidence: 0.9, startMs: 0, endMs: 0 }),
        close: () => {},
      };
    },
    close: () => Promise.resolve(),
  };
  const listener = new CallListener({
    stt,
    openVad: openEnergyVad,
    context: () => ({ kind: 'closed', phrases: ['large'], numbers: false, domain: ['large'] }),
    onSpeechStart: () => {},
    onTurn: (turn) => finals.push(turn.text),
    onInterim: (text) => interims.push(text),
    logger: memoryLogger('debug').logger,
  });
  const tone = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 8000));
  const loud = pcmToMulaw(tone);
  const quiet = new Uint8Array(FRAME_SAMPLES).fill(0xff);
  for (let i = 0; i < 25; i++) listener.pushMulaw(quiet);
  for (let i = 0; i < 50; i++) listener.pushMulaw(loud);
  for (let i = 0; i < 60; i++) listener.pushMulaw(quiet);
  listener.close();
  assert.deepEqual(finals, ['large']);
  assert.ok(interims.length > 0, 'interim transcripts were handed on');
  assert.ok(interims.every((t) => t.startsWith('guess ')));
});

test('call view: keypad entries show as caller turns, with the state and slots they led to', async () => {
  const result = validateFlow(
    JSON.parse(readFileSync(new URL('../../../flows/demo.json', import.meta.url), 'utf8')),
  );
  assert.ok(result.ok);
  const views = new CallViews();
  views.open('CA1');
  const journals = await testJournals();
  const socket = new RecordingSocket();
  const { logger, records } = memoryLogger('debug');
  const s = new MediaSession(socket, {
    flows: new Map([['demo', compileFlow(result.flow)]]),
    journals,
    defaultFlow: 'demo',
    prompts: new PromptCache(new ToneTts({ msPerChar: 1 })),
    pacerClock: new PacerClock(),
    metrics: createServerMetrics(),
    logger,
    views,
  });
  const enc = new InboundEncoder({ streamSid: 'MZ1', callSid: 'CA1', accountSid: 'AC1' });
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start(await streamParams(journals, 'CA1', 'demo')));
  await s.settled();
  // Key 2 leaves the menu; then a number typed with its terminator, faster than the journal is written.
  s.handleMessage(enc.dtmf('2'));
  await s.settled();
  for (const key of '5551234#') s.handleMessage(enc.dtmf(key));
  await s.settled();
  assert.equal(s.flowState, 'confirm');
  // A key the read-back does not offer is a no-match: the flow asks again.
  s.handleMessage(enc.dtmf('7'));
  await s.settled();
  const events = views.history('CA1');
  const turns = events.filter((e) => e.type === 'turn');
  assert.deepEqual(
    turns.map((t) =>
      t.via === 'keypad' ? { keys: t.text, state: t.state, slots: t.slots, retry: t.retry } : t,
    ),
    [
      { keys: '2', state: 'callback', slots: {}, retry: false },
      { keys: '5551234#', state: 'confirm', slots: { callback: '5551234' }, retry: false },
      { keys: '7', state: 'confirm', slots: {}, retry: true },
    ],
  );
  // While the number is typed, the view shows the keys so far, as it shows speech while it is heard.
  assert.deepEqual(
    events.filter((e) => e.type === 'keys').map((e) => e.keys),
    ['2', '5', '55', '555', '5551', '55512', '555123', '5551234', '5551234#', '7'],
  );
  // The entry shows before the prompt it led to: its first key is published before the read-back.
  const at = (pred: (e: CallViewEvent) => boolean) => events.findIndex(pred);
  assert.ok(
    at((e) => e.type === 'keys' && e.keys === '5') <
      at((e) => e.type === 'prompt' && e.text.startsWith('You entered')),
  );
  // Digits are personal data: never in a log message's text.
  assert.ok(records.every((r) => !r.msg.includes('5551234')));
  s.handleMessage(enc.stop());
  await s.settled();
});
