import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MULAW_SILENCE,
  decodeMulawSample,
  encodeMulawSample,
  mulawToPcm,
  pcmToMulaw,
} from '../../../src/audio/mulaw.ts';

/** G.711 segment of a magnitude, found independently by walking the segment end points of the biased value. */
function segmentOf(magnitude: number): number {
  const biased = Math.min(magnitude, 32635) + 0x84;
  const ends = [0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0x7fff];
  const seg = ends.findIndex((end) => biased <= end);
  assert.ok(seg >= 0);
  return seg;
}

/** Reference encoder by segment search, written separately from the implementation's bit tricks. */
function referenceEncode(x: number): number {
  const sign = x < 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(x), 32635);
  const seg = segmentOf(magnitude);
  const mantissa = ((magnitude + 0x84) >> (seg + 3)) & 0x0f;
  return 0xff ^ (sign | (seg << 4) | mantissa);
}

test('the decode table has the known G.711 values', () => {
  assert.equal(decodeMulawSample(0xff), 0);
  assert.equal(decodeMulawSample(0x7f), 0);
  assert.equal(decodeMulawSample(0x00), -32124);
  assert.equal(decodeMulawSample(0x80), 32124);
  assert.equal(decodeMulawSample(0x01), -31100);
  assert.equal(decodeMulawSample(0x10), -15996);
  assert.equal(decodeMulawSample(0x70), -120);
  assert.equal(decodeMulawSample(0xfe), 8);
  assert.equal(decodeMulawSample(0xef), 132);
  assert.ok(Object.is(decodeMulawSample(0x7f), 0), 'no negative zero');
});

test('encoding 0 gives silence, and the extremes clip to the outermost codes', () => {
  assert.equal(encodeMulawSample(0), 0xff);
  assert.equal(MULAW_SILENCE, 0xff);
  assert.equal(encodeMulawSample(32767), 0x80);
  assert.equal(encodeMulawSample(-32768), 0x00);
  assert.equal(encodeMulawSample(100000), 0x80);
  assert.equal(encodeMulawSample(-100000), 0x00);
  assert.equal(encodeMulawSample(-1), 0x7f);
});

test('encoding agrees with a segment-search reference for every int16 value', () => {
  const all = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i - 32768;
  const encoded = pcmToMulaw(all);
  for (let i = 0; i < 65536; i++) {
    const x = i - 32768;
    const expected = referenceEncode(x);
    if (encoded[i] !== expected || encodeMulawSample(x) !== expected)
      assert.fail(`sample ${x}: got ${encoded[i]} / ${encodeMulawSample(x)}, want ${expected}`);
  }
});

test('pcm -> mu-law -> pcm over all int16 values stays within half a quantisation step of its segment', () => {
  const all = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i - 32768;
  const back = mulawToPcm(pcmToMulaw(all));
  let previous = -Infinity;
  const worst = new Array<number>(8).fill(0);
  for (let i = 0; i < 65536; i++) {
    const x = all[i]!;
    const y = back[i]!;
    const magnitude = Math.abs(x);
    // Segment s has steps of 2^(s+3); decoding returns the middle of the step, so error <= 2^(s+2).
    // Above the clip level the decoded value is the largest code, 32124.
    const bound = magnitude > 32635 ? magnitude - 32124 : 2 ** (segmentOf(magnitude) + 2);
    if (Math.abs(y - x) > bound) assert.fail(`sample ${x} came back as ${y}, error above ${bound}`);
    if (y < previous) assert.fail(`not monotonic at ${x}`);
    previous = y;
    if (magnitude <= 32635) {
      const seg = segmentOf(magnitude);
      worst[seg] = Math.max(worst[seg]!, Math.abs(y - x));
    }
  }
  // Each segment reaches its bound exactly: the bounds are tight, not loose enough to hide a coarser quantiser.
  assert.deepEqual(worst, [4, 8, 16, 32, 64, 128, 256, 512]);
  assert.equal(decodeMulawSample(encodeMulawSample(16252)), 16764);
});

test('every code except negative zero survives decode -> encode', () => {
  for (let u = 0; u < 256; u++) {
    const expected = u === 0x7f ? 0xff : u;
    assert.equal(encodeMulawSample(decodeMulawSample(u)), expected, `code ${u}`);
  }
});

test('non-integer and out-of-range inputs are rounded and clamped', () => {
  assert.equal(encodeMulawSample(1000.4), encodeMulawSample(1000));
  assert.equal(encodeMulawSample(Number.NaN), MULAW_SILENCE);
  assert.equal(decodeMulawSample(0x1ff), decodeMulawSample(0xff));
});

test('dst variants write into the caller buffer instead of allocating', () => {
  const pcm = new Int16Array([0, 1000, -1000, 32767, -32768]);
  const bytes = new Uint8Array(64);
  const encoded = pcmToMulaw(pcm, bytes);
  assert.equal(encoded.buffer, bytes.buffer);
  assert.equal(encoded.length, pcm.length);
  assert.deepEqual([...encoded], [...pcm].map(encodeMulawSample));

  const samples = new Int16Array(64);
  const decoded = mulawToPcm(encoded, samples);
  assert.equal(decoded.buffer, samples.buffer);
  assert.equal(decoded.length, encoded.length);
  assert.deepEqual([...decoded], [...encoded].map(decodeMulawSample));

  // An exactly sized dst comes back as itself.
  const exact = new Uint8Array(pcm.length);
  assert.equal(pcmToMulaw(pcm, exact), exact);

  assert.throws(() => pcmToMulaw(pcm, new Uint8Array(2)), RangeError);
  assert.throws(() => mulawToPcm(encoded, new Int16Array(2)), RangeError);
});

test('without dst a fresh array is returned', () => {
  const src = new Uint8Array([0xff, 0x00]);
  const out = mulawToPcm(src);
  assert.notEqual(out.buffer, src.buffer);
  assert.deepEqual([...out], [0, -32124]);
});
