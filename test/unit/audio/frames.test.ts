import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import {
  FRAME_BYTES,
  FRAME_MS,
  SAMPLE_RATE,
  durationMs,
  framesToBase64,
  silence,
  splitFrames,
} from '../../../src/audio/frames.ts';
import { MULAW_SILENCE } from '../../../src/audio/mulaw.ts';

function ramp(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i % 251;
  return out;
}

test('framing constants describe 20 ms of 8 kHz mu-law', () => {
  assert.equal(SAMPLE_RATE, 8000);
  assert.equal(FRAME_MS, 20);
  assert.equal(FRAME_BYTES, (SAMPLE_RATE * FRAME_MS) / 1000);
});

test('splitFrames: full frames are views of the input, the short last one a padded copy', () => {
  const audio = ramp(400);
  const frames = splitFrames(audio);
  assert.equal(frames.length, 3);
  for (const f of frames) assert.equal(f.length, FRAME_BYTES);
  assert.equal(frames[0]!.buffer, audio.buffer);
  assert.equal(frames[1]!.byteOffset, 160);
  assert.deepEqual(frames[1], audio.subarray(160, 320));
  const last = frames[2]!;
  assert.deepEqual(last.subarray(0, 80), audio.subarray(320));
  assert.ok(last.subarray(80).every((b) => b === MULAW_SILENCE));
  audio[399] = 7;
  assert.notEqual(last[79], 7, 'the padded frame is a copy');
});

test('splitFrames: exact multiples are not padded; empty input gives no frames', () => {
  const audio = ramp(320);
  const frames = splitFrames(audio);
  assert.equal(frames.length, 2);
  assert.ok(frames.every((f) => f.buffer === audio.buffer));
  assert.deepEqual(splitFrames(new Uint8Array(0)), []);
  assert.equal(splitFrames(new Uint8Array(1)).length, 1);
});

test('framesToBase64: one payload per frame, decoding back to the frame bytes', () => {
  const audio = ramp(1000).subarray(3, 1000); // a view at an odd offset
  const payloads = framesToBase64(audio);
  assert.equal(payloads.length, Math.ceil(997 / 160));
  const frames = splitFrames(audio);
  payloads.forEach((p, i) => {
    assert.equal(p.length, 216); // 160 bytes -> 54 groups of 4 characters
    assert.deepEqual(new Uint8Array(Buffer.from(p, 'base64')), frames[i]);
  });
  const tail = Buffer.from(payloads.at(-1)!, 'base64');
  assert.equal(tail[997 - 6 * 160], MULAW_SILENCE);
  assert.deepEqual(framesToBase64(new Uint8Array(0)), []);
});

test('durationMs and silence', () => {
  assert.equal(durationMs(160), 20);
  assert.equal(durationMs(8000), 1000);
  assert.equal(durationMs(80), 10);
  assert.equal(durationMs(0), 0);
  const s = silence(20);
  assert.equal(s.length, 160);
  assert.ok(s.every((b) => b === MULAW_SILENCE));
  assert.equal(silence(1000).length, 8000);
  assert.equal(silence(0).length, 0);
  assert.equal(silence(-5).length, 0);
  assert.equal(durationMs(silence(250).length), 250);
});
