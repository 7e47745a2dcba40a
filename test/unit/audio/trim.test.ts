import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MULAW_SILENCE, pcmToMulaw } from '../../../src/audio/mulaw.ts';
import { trimSilence } from '../../../src/audio/trim.ts';

/** `leadMs` of silence, `soundMs` of a loud square wave, `trailMs` of silence, as 8 kHz mu-law. */
function padded(leadMs: number, soundMs: number, trailMs: number): Uint8Array {
  const pcm = new Int16Array(((leadMs + soundMs + trailMs) * 8000) / 1000);
  const from = (leadMs * 8000) / 1000;
  const to = from + (soundMs * 8000) / 1000;
  for (let i = from; i < to; i++) pcm[i] = i % 2 === 0 ? 8000 : -8000;
  return pcmToMulaw(pcm);
}

test('silence beyond the kept margins is cut from both ends', () => {
  const trimmed = trimSilence(padded(150, 500, 250), { keepLeadMs: 30, keepTrailMs: 200 });
  assert.equal(trimmed.length, ((30 + 500 + 200) * 8000) / 1000);
  assert.equal(trimmed[0], MULAW_SILENCE);
  assert.notEqual(trimmed[(30 * 8000) / 1000], MULAW_SILENCE, 'the sound starts right after the kept lead');
});

test('margins shorter than the kept ones are left as they are, and nothing is copied', () => {
  const audio = padded(10, 500, 50);
  assert.equal(trimSilence(audio), audio);
});

test('audio without sound, and empty audio, come back unchanged', () => {
  const silent = new Uint8Array(800).fill(MULAW_SILENCE);
  assert.equal(trimSilence(silent), silent);
  const empty = new Uint8Array(0);
  assert.equal(trimSilence(empty), empty);
});

test('sound quieter than the threshold counts as silence', () => {
  const pcm = new Int16Array(1600);
  pcm.fill(50, 0, 800); // about -56 dBFS: below the default threshold of 100
  pcm.fill(4000, 800, 1200);
  const trimmed = trimSilence(pcmToMulaw(pcm), { keepLeadMs: 0, keepTrailMs: 0 });
  assert.equal(trimmed.length, 400);
});
