import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pcmToMulaw } from '../../src/audio/mulaw.ts';
import { CallViews, type CallViewEvent } from '../../src/call/call-view.ts';
import { CallListener, FRAME_SAMPLES, openEnergyVad } from '../../src/call/listener.ts';
import { memoryLogger } from '../../src/observability/logger.ts';
import type { SttEngine } from '../../src/speech/stt/engine.ts';

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
  views.publish('CA1', { type: 'turn', at: 2, text: 'a pizza', intent: 'order', confidence: 0.9 });
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

test('call view: an ended call is forgotten a while after it ends', async () => {
  const views = new CallViews({ forgetAfterMs: 20 });
  views.open('CA1');
  views.publish('CA1', { type: 'ended', at: 5, reason: 'caller hung up' });
  // Still there just after the end, for a page that subscribes late.
  const late: string[] = [];
  views.subscribe('CA1', (e) => late.push(e.type));
  assert.deepEqual(late, ['ended']);
  await new Promise((r) => setTimeout(r, 60));
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
