/**
 * Gaps in the inbound media timestamps (lost packets): the session gives the listener silence for them, so its
 * frame clock (VAD, end-of-turn silence) keeps up with the call's time; a bogus jump is filled with at most 1 s.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacerClock } from '../../../src/audio/pacer.ts';
import { pcmToMulaw } from '../../../src/audio/mulaw.ts';
import { openEnergyVad } from '../../../src/speech/vad/energy.ts';
import type { VadOpener } from '../../../src/speech/vad/opener.ts';
import { MediaSession } from '../../../src/call/session.ts';
import { compileFlow, validateFlow } from '../../../src/flow/index.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { createServerMetrics } from '../../../src/observability/metrics.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { InboundEncoder } from '../../../src/telephony/media-streams.ts';
import { ScriptedStt } from '../../fakes/scripted-stt.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';
import { RecordingSocket } from '../../fakes/recording-socket.ts';
import { streamParams, testJournals } from '../../fixtures/journals.ts';

function flow() {
  const result = validateFlow({
    id: 'shop',
    version: 1,
    intents: { order: { examples: ['i want to order'] } },
    start: 'ask',
    states: {
      ask: { say: 'xx', on: { order: 'bye' } },
      bye: { say: 'bye', hangup: true },
    },
    policy: { noInputMs: 20_000 },
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.findings));
  return compileFlow(result.flow);
}

/** A VAD that hears nothing and keeps each frame's loudest sample, across the streams the listener opens. */
function spyVad(): { open: VadOpener; peaks: number[] } {
  const peaks: number[] = [];
  const open: VadOpener = () => ({
    pushPcm(frame) {
      let peak = 0;
      for (const x of frame) peak = Math.max(peak, Math.abs(x));
      peaks.push(peak);
    },
    close() {},
  });
  return { open, peaks };
}

async function call(openVad: VadOpener) {
  const journals = await testJournals();
  const { logger, records } = memoryLogger('debug');
  const stt = new ScriptedStt(['i want to order']);
  const s = new MediaSession(new RecordingSocket(), {
    flows: new Map([['shop', flow()]]),
    journals,
    defaultFlow: 'shop',
    prompts: new PromptCache(new ToneTts()),
    pacerClock: new PacerClock(),
    metrics: createServerMetrics(),
    logger,
    hearing: { stt, openVad },
  });
  const enc = new InboundEncoder({ streamSid: 'MZ1', callSid: 'CA1', accountSid: 'AC1' });
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start(await streamParams(journals, 'CA1', 'shop')));
  // The call is attached to its journal before the test's audio arrives.
  await s.settled();
  /** One media message of 8 kHz mu-law at `timestamp`. */
  const media = (mulaw: Uint8Array, timestamp: number): void =>
    s.handleMessage(enc.media(Buffer.from(mulaw).toString('base64'), timestamp));
  /** `frames` 20 ms frames of one mu-law byte (loud unless told) in one message at `timestamp`. */
  const frame = (timestamp: number, byte = 0x10, frames = 1): void =>
    media(new Uint8Array(160 * frames).fill(byte), timestamp);
  const ended = () => {
    s.handleClose(1000);
    const record = records.find((r) => r.msg === 'call ended');
    assert.ok(record, 'the call ended');
    return record;
  };
  return { s, stt, media, frame, ended };
}

test('a gap in the timestamps reaches the listener as silence, jitter does not, and the fill is counted', async () => {
  const vad = spyVad();
  const c = await call(vad.open);
  c.frame(0);
  c.frame(20);
  c.frame(40);
  c.frame(200); // 140 ms (7 frames) lost
  c.frame(225); // 5 ms late: jitter, not a gap
  c.frame(240); // early again
  c.frame(230); // overtaken: dropped, as before
  const loud = vad.peaks[0]!;
  assert.ok(loud > 0);
  assert.deepEqual(vad.peaks, [loud, loud, loud, 0, 0, 0, 0, 0, 0, 0, loud, loud, loud]);
  const ended = c.ended();
  assert.equal(ended['gapFilledFrames'], 7);
  assert.equal(ended['outOfOrderFrames'], 1);
  assert.equal(ended['framesIn'], 7);
});

test('a gap is rounded to whole frames, and a message of several frames moves the expected time by all of them', async () => {
  const vad = spyVad();
  const c = await call(vad.open);
  c.frame(0);
  c.frame(49); // 29 ms late: one frame (to the nearest)
  c.frame(69);
  c.frame(100); // 11 ms late: under a frame, not filled
  assert.equal(vad.peaks.filter((p) => p === 0).length, 1);
  // 60 ms in one message: the next one is due 60 ms later, not 20.
  c.frame(120, 0x10, 3);
  c.frame(180);
  assert.equal(vad.peaks.filter((p) => p === 0).length, 1);
  c.frame(240); // 40 ms lost
  assert.equal(vad.peaks.filter((p) => p === 0).length, 3);
  assert.equal(c.ended()['gapFilledFrames'], 3);
});

test('a giant jump in the timestamps is filled with at most one second of silence', async () => {
  const vad = spyVad();
  const c = await call(vad.open);
  c.frame(0);
  c.frame(1_000_000_000);
  c.frame(1_000_000_020);
  assert.equal(vad.peaks.length, 1 + 50 + 2);
  assert.equal(vad.peaks.filter((p) => p === 0).length, 50);
  assert.equal(c.ended()['gapFilledFrames'], 50);
});

test('after a bogus jump ahead, audio on the real clock is heard again rather than dropped as late', async () => {
  const vad = spyVad();
  const c = await call(vad.open);
  c.frame(0);
  c.frame(1_000_000_000);
  c.frame(20);
  c.frame(40);
  // Two real frames after the bogus one, neither dropped; a frame just behind the last is still late.
  c.frame(30);
  assert.equal(vad.peaks.length, 1 + 50 + 1 + 2);
  assert.equal(c.ended()['outOfOrderFrames'], 1);
});

test('a turn followed by lost packets ends when the call has been silent long enough, not 700 ms of frames later', async () => {
  const c = await call(openEnergyVad);
  // Half a second of a loud tone: speech to the energy VAD, answered as "i want to order" by the scripted engine.
  const tone = new Int16Array(4000);
  for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 8000));
  // After 300 ms of silence: the energy VAD takes a line's first frame as its noise floor.
  const speech = new Uint8Array([...new Uint8Array(2400).fill(0xff), ...pcmToMulaw(tone)]);
  let timestamp = 0;
  for (let at = 0; at < speech.length; at += 160, timestamp += 20)
    c.media(speech.subarray(at, at + 160), timestamp);
  c.frame(timestamp, 0xff);
  assert.equal(c.stt.streams.length, 1, 'the speech started a recognition');
  assert.equal(c.stt.streams[0]!.ended, false, 'one silent frame does not end the turn');
  // Then a second of the call is lost: its silence is more than the 700 ms that ends a turn.
  c.frame(timestamp + 1020, 0xff);
  assert.equal(c.stt.streams[0]!.ended, true, 'the turn ended on the filled silence');
  const deadline = Date.now() + 5000;
  while (c.s.flowState !== 'bye' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(c.s.flowState, 'bye', 'the answer was understood and routed');
  assert.equal(c.ended()['gapFilledFrames'], 50);
});
