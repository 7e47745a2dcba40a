/**
 * The call's listener: real synthesized speech through the energy VAD into a scripted speech engine (the test
 * double in test/fakes), checking what the engine is given (the turn from just before its onset, the state's
 * context) and what comes out (one turn per utterance, in order, nothing from silence).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mulawToPcm } from '../../../src/audio/mulaw.ts';
import { FRAME_SAMPLES } from '../../../src/audio/frames.ts';
import { CallListener, type HeardTurn } from '../../../src/call/listener.ts';
import { openEnergyVad } from '../../../src/speech/vad/energy.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import type { ListenContext } from '../../../src/speech/stt/engine.ts';
import { FliteTts } from '../../../src/speech/tts/flite.ts';
import { ScriptedStt } from '../../fakes/scripted-stt.ts';

const CONTEXT: ListenContext = { kind: 'closed', phrases: ['large'], numbers: false, domain: ['large'] };
const MULAW_SILENCE = 0xff;

let speech: Uint8Array;
const tts = new FliteTts({ voice: 'kal' });
before(async () => {
  speech = (await tts.synthesize({ text: 'I would like a large pizza please' })).mulaw;
});
after(() => tts.close());

function silence(ms: number): Uint8Array {
  return new Uint8Array((ms / 1000) * 8000).fill(MULAW_SILENCE);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The first sample index whose magnitude is clearly above silence. */
function firstLoud(mulaw: Uint8Array): number {
  const pcm = mulawToPcm(mulaw);
  return pcm.findIndex((s) => Math.abs(s) > 500);
}

function listen(stt: ScriptedStt, context: () => ListenContext | null = () => CONTEXT) {
  const starts: number[] = [];
  const turns: HeardTurn[] = [];
  const { logger, records } = memoryLogger('debug');
  const listener = new CallListener({
    stt,
    openVad: openEnergyVad,
    context,
    onSpeechStart: (onsetMs) => starts.push(onsetMs),
    onTurn: (turn) => turns.push(turn),
    logger,
  });
  const play = (audio: Uint8Array): void => {
    for (let at = 0; at < audio.length; at += FRAME_SAMPLES)
      listener.pushMulaw(audio.subarray(at, Math.min(at + FRAME_SAMPLES, audio.length)));
  };
  return { listener, starts, turns, records, play };
}

test('a turn reaches the engine from just before its onset, with the context, and comes back as one turn', () => {
  const stt = new ScriptedStt(['i would like a large pizza please']);
  const { starts, turns, play } = listen(stt);
  const audio = concat(silence(1000), speech, silence(1500));
  play(audio);

  const onsetMs = (firstLoud(audio) / 8000) * 1000;
  assert.equal(starts.length, 1);
  assert.ok(Math.abs(starts[0]! - onsetMs) <= 60, `onset ${starts[0]} vs ${onsetMs}`);
  assert.equal(stt.streams.length, 1);
  const stream = stt.streams[0]!;
  assert.equal(stream.context, CONTEXT);
  assert.equal(stream.ended, true);
  assert.equal(stream.closed, true);
  // The engine heard the speech from ~200 ms before the onset through the silence that ended the turn.
  const speechMs = (speech.length / 8000) * 1000;
  const heardMs = stream.samples.length / 8;
  assert.ok(heardMs >= speechMs && heardMs <= speechMs + 200 + 700 + 200, `heard ${heardMs} ms`);
  const pcm = mulawToPcm(audio);
  const from = Math.round((starts[0]! - 200) * 8);
  assert.deepEqual(stream.samples.slice(0, 800), [...pcm.subarray(from, from + 800)]);

  assert.equal(turns.length, 1);
  assert.equal(turns[0]!.text, 'i would like a large pizza please');
  assert.equal(turns[0]!.onsetMs, starts[0]);
  assert.ok(turns[0]!.transcribedAt >= turns[0]!.endDecidedAt);
});

test('silence, and speech while the call takes none, give no recognition', () => {
  const stt = new ScriptedStt(['anything']);
  const quiet = listen(stt);
  quiet.play(silence(5000));
  assert.deepEqual(quiet.starts, []);
  assert.equal(stt.streams.length, 0);

  const busy = listen(stt, () => null);
  busy.play(concat(silence(500), speech, silence(1500)));
  assert.equal(busy.starts.length, 1, 'speech starts are still reported (for barge-in)');
  assert.equal(stt.streams.length, 0);
  assert.deepEqual(busy.turns, []);
});

test('a turn that starts before the previous one is transcribed keeps both, and close drops what is left', () => {
  const stt = new ScriptedStt([], { hold: true });
  const { listener, turns, play } = listen(stt);
  play(concat(silence(500), speech, silence(1000)));
  play(concat(speech, silence(1000)));
  assert.equal(stt.streams.length, 2);
  assert.ok(stt.streams.every((s) => s.ended));
  stt.streams[0]!.answer('first');
  stt.streams[1]!.answer('second');
  assert.deepEqual(
    turns.map((t) => t.text),
    ['first', 'second'],
  );

  play(concat(speech.subarray(0, 8000), silence(100)));
  const open = stt.streams[2]!;
  assert.equal(open.ended, false);
  listener.close();
  assert.equal(open.closed, true);
  open.answer('too late');
  assert.equal(turns.length, 2);
});

test('the VAD stream starts afresh after each turn and after 4 s without one, its times continuing', () => {
  const opened: { times: number[]; closed: boolean }[] = [];
  const energy = openEnergyVad;
  const stt = new ScriptedStt(['one', 'two']);
  const starts: number[] = [];
  const listener = new CallListener({
    stt,
    openVad: (onProbability) => {
      const record = { times: [] as number[], closed: false };
      opened.push(record);
      const inner = energy((p, startMs, durationMs) => {
        record.times.push(startMs);
        onProbability(p, startMs, durationMs);
      });
      return {
        pushPcm: (frame) => inner.pushPcm(frame),
        close: () => {
          record.closed = true;
          inner.close();
        },
      };
    },
    context: () => CONTEXT,
    onSpeechStart: (ms) => starts.push(ms),
    onTurn: () => {},
    logger: memoryLogger().logger,
  });
  const audio = concat(silence(4500), speech, silence(1500), speech, silence(1000));
  for (let at = 0; at < audio.length; at += FRAME_SAMPLES)
    listener.pushMulaw(audio.subarray(at, at + FRAME_SAMPLES));
  // 4 s of silence, then one restart after each of the two turns.
  assert.equal(opened.length, 4);
  assert.ok(opened.slice(0, -1).every((o) => o.closed));
  assert.deepEqual(opened[1]!.times.slice(0, 1), [0], 'each stream counts from its own start');
  // The listener places each stream's times after the audio before it: onsets land where the speech is.
  assert.equal(starts.length, 2);
  assert.ok(Math.abs(starts[0]! - 4500 - firstLoud(speech) / 8) <= 60, `first onset ${starts[0]}`);
  const speechMs = (speech.length / 8000) * 1000;
  assert.ok(Math.abs(starts[1]! - starts[0]! - (speechMs + 1500)) <= 60, `${starts.join(', ')}`);
  assert.equal(stt.streams.length, 2);
});
