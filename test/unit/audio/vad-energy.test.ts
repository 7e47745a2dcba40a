/** The energy VAD on real synthesized speech (flite), digital silence, a cough-like burst and clipped noise. */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { EnergyVad } from '../../../src/audio/energy-vad.ts';
import { FRAME_BYTES, FRAME_MS, silence } from '../../../src/audio/frames.ts';
import { mulawToPcm, pcmToMulaw } from '../../../src/audio/mulaw.ts';
import { trimSilence } from '../../../src/audio/trim.ts';
import { TurnDetector } from '../../../src/audio/turn-detector.ts';
import type { TurnEvent } from '../../../src/audio/turn-detector.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { FliteTts } from '../../../src/speech/tts/flite.ts';

const LEAD_MS = 1000;
const TAIL_MS = 1500;
let speech: Uint8Array;

before(async () => {
  const tts = new FliteTts({ voice: 'kal' });
  try {
    const audio = await tts.synthesize({ text: 'I would like to check the balance of my account please' });
    // Cut flite's own padding so the true onset and end are exactly where the test puts them.
    speech = trimSilence(audio.mulaw, { keepLeadMs: 0, keepTrailMs: 0 });
  } finally {
    await tts.close();
  }
});

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Deterministic noise: Gaussian (Box-Muller over a small LCG) scaled to `rms`, clipped to int16. */
function noise(ms: number, rms: number, seed = 1): Int16Array {
  const out = new Int16Array((ms * 8000) / 1000);
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  for (let i = 0; i < out.length; i++) {
    const g = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    out[i] = Math.max(-32768, Math.min(32767, Math.round(g * rms)));
  }
  return out;
}

/** Energy VAD -> turn detector over 20 ms mu-law frames; the events and each frame's decision. */
function detect(mulaw: Uint8Array, vad = new EnergyVad()): { events: TurnEvent[]; voiced: number } {
  const turns = new TurnDetector();
  const events: TurnEvent[] = [];
  let voiced = 0;
  for (let i = 0; i + FRAME_BYTES <= mulaw.length; i += FRAME_BYTES) {
    const p = vad.processMulaw(mulaw.subarray(i, i + FRAME_BYTES));
    if (p >= 0.5) voiced++;
    const e = turns.push(p, (i / FRAME_BYTES) * FRAME_MS);
    if (e) events.push(e);
  }
  const end = turns.flush();
  if (end) events.push(end);
  return { events, voiced };
}

test('speech in silence: one turn, onset within 40 ms, end decided 700 ms after the speech stops', () => {
  const speechMs = speech.length / 8;
  const { events } = detect(concat(silence(LEAD_MS), speech, silence(TAIL_MS)));
  assert.equal(events.length, 2, JSON.stringify(events));
  const [start, end] = events;
  assert.ok(start?.type === 'speech-start' && end?.type === 'speech-end');
  assert.ok(Math.abs(start.onsetMs - LEAD_MS) <= 40, `onset ${start.onsetMs}`);
  assert.ok(start.atMs - LEAD_MS <= 250 + 100, `start decided at ${start.atMs}`);
  assert.equal(end.reason, 'silence');
  assert.ok(Math.abs(end.endMs - (LEAD_MS + speechMs)) <= 60, `end ${end.endMs} vs ${LEAD_MS + speechMs}`);
  assert.equal(end.atMs - end.endMs, 700);
});

test('speech over steady line noise (-45 dBFS) is still one turn with a close onset', () => {
  const clean = mulawToPcm(concat(silence(LEAD_MS), speech, silence(TAIL_MS)));
  const hiss = noise(clean.length / 8, 32768 * 10 ** (-45 / 20), 3);
  const mixed = new Int16Array(clean.length);
  for (let i = 0; i < clean.length; i++) mixed[i] = Math.max(-32768, Math.min(32767, clean[i]! + hiss[i]!));
  const { events } = detect(pcmToMulaw(mixed));
  assert.equal(events.filter((e) => e.type === 'speech-start').length, 1, JSON.stringify(events));
  assert.ok(Math.abs(events[0]!.onsetMs - LEAD_MS) <= 60, `onset ${events[0]?.onsetMs}`);
});

test('all-zero frames never look like speech, however long, and the floor stops at its minimum', () => {
  const vad = new EnergyVad();
  const zero = new Int16Array(160);
  for (let i = 0; i < 3000; i++) assert.ok(vad.process(zero) < 1e-6);
  assert.equal(vad.noiseFloorDb, -70);
  assert.equal(vad.levelDb, -120);
  assert.deepEqual(detect(silence(60_000)).events, []);
});

test('a 150 ms noise burst (a cough) in silence does not start a turn', () => {
  const cough = pcmToMulaw(noise(150, 6000, 5));
  const { events, voiced } = detect(concat(silence(1000), cough, silence(1000)));
  assert.ok(voiced >= 6 && voiced <= 9, `the VAD itself hears the burst (${voiced} frames)`);
  assert.deepEqual(events, []);
});

test('clipped full-scale noise: speech at first, until the floor catches up within ~7 s (documented bound)', () => {
  // Energy cannot tell noise from speech: loud noise is a turn until the adaptive floor rises to it (floorRiseMs
  // 3 s: ~6 s from a quiet line to full scale), then the turn ends and stays ended while the noise lasts.
  const clipped = pcmToMulaw(noise(20_000, 32768 * 3, 9));
  const { events } = detect(concat(silence(1000), clipped, silence(2000)));
  const starts = events.filter((e) => e.type === 'speech-start');
  assert.equal(starts.length, 1, JSON.stringify(events));
  const end = events[1];
  assert.ok(end?.type === 'speech-end' && end.reason === 'silence');
  const heardMs = end.endMs - 1000;
  assert.ok(heardMs > 3000 && heardMs < 8000, `noise counted as speech for ${heardMs} ms`);
});

test('bad options are typed errors', () => {
  for (const options of [{ marginDb: -1 }, { slopeDb: 0 }, { floorRiseMs: Number.NaN }, { minFloorDb: 5 }])
    assert.throws(
      () => new EnergyVad(options),
      (err) => isSwitchboardError(err, 'VAD_CONFIG_INVALID'),
    );
});
