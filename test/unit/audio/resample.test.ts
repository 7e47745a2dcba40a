import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resampler, resample } from '../../../src/audio/resample.ts';
import { activeSpeechMs, dbfs, rms, tonePower } from '../../../src/audio/level.ts';
import { pcmToMulaw } from '../../../src/audio/mulaw.ts';

function tone(rate: number, freq: number, seconds: number, amplitude = 16000): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** The middle half, away from the zero-padded edges. */
function middle(x: Int16Array): Int16Array {
  return x.subarray(Math.floor(x.length / 4), Math.floor((3 * x.length) / 4));
}

const dB = (power: number): number => 10 * Math.log10(power);

function peakIndex(x: Int16Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (Math.abs(x[i]!) > Math.abs(x[best]!)) best = i;
  return best;
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test('level tools: a sine of amplitude A has tone power (A/32768)^2/2 at its frequency, little elsewhere', () => {
  const x = tone(8000, 1000, 0.5, 32767);
  assert.ok(Math.abs(tonePower(x, 8000, 1000) - 0.5) < 0.005);
  const half = tone(8000, 1234.5, 0.5, 16384);
  assert.ok(Math.abs(dB(tonePower(half, 8000, 1234.5)) - dB(0.125)) < 0.1);
  assert.ok(dB(tonePower(half, 8000, 2500)) < dB(0.125) - 60);
  assert.ok(Math.abs(rms(x) - 32767 / Math.SQRT2) < 50);
  assert.ok(Math.abs(dbfs(x) + 3.01) < 0.05);
  assert.equal(dbfs(new Int16Array(100)), -Infinity);
  assert.equal(rms(new Int16Array([3, 4, 100]), 0, 2), Math.sqrt(12.5));
});

test('level tools: activeSpeechMs counts 20 ms frames above the threshold', () => {
  const quiet = tone(8000, 440, 0.1, 30); // about -64 dBFS
  const loud = tone(8000, 440, 0.06, 8000); // about -15 dBFS
  const mulaw = pcmToMulaw(concat([quiet, loud, quiet]));
  assert.equal(activeSpeechMs(mulaw), 60);
  assert.equal(activeSpeechMs(mulaw, -80), 260);
  assert.equal(activeSpeechMs(mulaw.subarray(0, 800 + 80)), 10); // a half frame of loud audio counts 10 ms
});

test('16 kHz -> 8 kHz keeps a 1 kHz tone within 1 dB', () => {
  const x = tone(16000, 1000, 1);
  const y = resample(x, 16000, 8000);
  const before = dB(tonePower(middle(x), 16000, 1000));
  const after = dB(tonePower(middle(y), 8000, 1000));
  assert.ok(Math.abs(after - before) < 1, `${before.toFixed(2)} dB -> ${after.toFixed(2)} dB`);
});

test('16 kHz -> 8 kHz removes a 5 kHz tone (at least 40 dB down) instead of aliasing it to 3 kHz', () => {
  const x = tone(16000, 5000, 1);
  const y = resample(x, 16000, 8000);
  const input = dB(tonePower(middle(x), 16000, 5000));
  const alias = dB(tonePower(middle(y), 8000, 3000));
  assert.ok(input - alias >= 40, `alias only ${(input - alias).toFixed(1)} dB down`);
  assert.ok(dbfs(middle(y)) < dbfs(middle(x)) - 40);
});

test('downsampling from 48, 44.1, 24 and 22.05 kHz keeps speech band and removes what would alias', () => {
  for (const rate of [48000, 44100, 24000, 22050]) {
    const kept = resample(tone(rate, 1000, 0.5), rate, 8000);
    assert.ok(
      Math.abs(dB(tonePower(middle(kept), 8000, 1000)) - dB(0.5 * (16000 / 32768) ** 2)) < 1,
      `${rate}`,
    );
    const removed = resample(tone(rate, 6000, 0.5), rate, 8000);
    assert.ok(dbfs(middle(removed)) < dbfs(tone(rate, 6000, 0.5)) - 40, `${rate}: 6 kHz not removed`);
  }
});

test('8 kHz -> 16 kHz -> 8 kHz keeps a 1 kHz tone, nearly sample for sample', () => {
  const x = tone(8000, 1000, 1);
  const up = resample(x, 8000, 16000);
  assert.equal(up.length, 16000);
  assert.ok(Math.abs(dB(tonePower(middle(up), 16000, 1000)) - dB(tonePower(middle(x), 8000, 1000))) < 1);
  const back = resample(up, 16000, 8000);
  assert.equal(back.length, x.length);
  assert.ok(Math.abs(dB(tonePower(middle(back), 8000, 1000)) - dB(tonePower(middle(x), 8000, 1000))) < 1);
  // Time-aligned too: the difference is small compared with the signal.
  let err = 0;
  for (let i = 2000; i < 6000; i++) err = Math.max(err, Math.abs(back[i]! - x[i]!));
  assert.ok(err < 200, `max error ${err}`);
});

test('chunked streaming output equals one-shot output sample for sample', () => {
  for (const [from, to] of [
    [16000, 8000],
    [8000, 16000],
    [22050, 8000],
    [44100, 8000],
  ] as const) {
    const x = tone(from, 700, 0.3);
    for (let i = 0; i < x.length; i += 97) x[i] = (x[i]! + 9000) | 0; // some broadband content
    const whole = resample(x, from, to);
    const r = new Resampler(from, to);
    const parts: Int16Array[] = [];
    const sizes = [1, 7, 160, 0, 333, 2, 1024];
    for (let at = 0, k = 0; at < x.length; k++) {
      const n = sizes[k % sizes.length]!;
      parts.push(r.process(x.subarray(at, at + n)));
      at += n;
    }
    parts.push(r.flush());
    assert.deepEqual(concat(parts), whole, `${from} -> ${to}`);
  }
});

test('a resampler can be reused after flush', () => {
  const r = new Resampler(16000, 8000);
  const x = tone(16000, 500, 0.1);
  const first = concat([r.process(x), r.flush()]);
  const second = concat([r.process(x), r.flush()]);
  assert.deepEqual(second, first);
});

test('output length is round(n * to / from)', () => {
  for (const n of [22050, 10000, 10001, 441, 1, 0]) {
    assert.equal(resample(new Int16Array(n), 22050, 8000).length, Math.round((n * 8000) / 22050), `n = ${n}`);
  }
  assert.equal(resample(new Int16Array(48000), 48000, 8000).length, 8000);
  assert.equal(resample(new Int16Array(1234), 8000, 16000).length, 2468);
});

test('an impulse lands at the corresponding output position (group delay compensated)', () => {
  const cases = [
    { from: 16000, to: 8000, at: 1600, want: 800 },
    { from: 8000, to: 16000, at: 1001, want: 2002 },
    { from: 22050, to: 8000, at: 6615, want: 2400 },
    { from: 44100, to: 8000, at: 4410, want: 800 },
    { from: 48000, to: 8000, at: 3000, want: 500 },
    { from: 24000, to: 8000, at: 2400, want: 800 },
  ];
  for (const { from, to, at, want } of cases) {
    const x = new Int16Array(from / 2);
    x[at] = 30000;
    const y = resample(x, from, to);
    assert.ok(Math.abs(peakIndex(y) - want) <= 1, `${from} -> ${to}: peak at ${peakIndex(y)}, want ${want}`);
  }
});

test('same rate returns a copy; bad rates are refused', () => {
  const x = new Int16Array([1, 2, 3]);
  const y = resample(x, 8000, 8000);
  assert.deepEqual(y, x);
  assert.notEqual(y.buffer, x.buffer);
  const r = new Resampler(8000, 8000);
  assert.deepEqual(r.process(x), x);
  assert.equal(r.flush().length, 0);
  assert.throws(() => new Resampler(0, 8000), RangeError);
  assert.throws(() => new Resampler(8000, 11025.5), RangeError);
});

test('output is clamped to int16 rather than wrapping', () => {
  // A full-scale square wave overshoots (Gibbs) when band-limited; it must saturate, not wrap around.
  const x = new Int16Array(4000);
  for (let i = 0; i < x.length; i++) x[i] = Math.floor(i / 40) % 2 ? -32768 : 32767;
  const y = resample(x, 16000, 8000);
  // Edges fall on every 20th output sample; the overshoot peaks right after each one.
  for (let edge = 400; edge < 1600; edge += 20) {
    const positive = (edge / 20) % 2 === 0;
    for (let k = 1; k < 20; k++) {
      const v = y[edge + k]!;
      assert.ok(positive ? v > 20000 : v < -20000, `sample ${edge + k} is ${v}`);
    }
  }
  assert.ok(y.includes(32767) && y.includes(-32768), 'overshoot saturates at the rails');
});

test("the 'fast' quality still meets the 40 dB alias requirement", () => {
  const r = new Resampler(16000, 8000, { quality: 'fast' });
  const x = tone(16000, 5000, 1);
  const y = concat([r.process(x), r.flush()]);
  assert.ok(dbfs(middle(y)) < dbfs(middle(x)) - 40);
});
