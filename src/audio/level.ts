/** Signal measurements for tests, benchmarks and voice activity. Levels are relative to int16 full scale. */
import { FRAME_BYTES, FRAME_MS } from './frames.ts';
import { decodeMulawSample } from './mulaw.ts';

const FULL_SCALE = 32768;

// Squared decoded value of each mu-law byte, so frame energy is one lookup and one add per byte.
const MULAW_SQUARED = new Float64Array(256);
for (let u = 0; u < 256; u++) MULAW_SQUARED[u] = decodeMulawSample(u) ** 2;

/** Root mean square of pcm[start, end) in int16 units; 0 for an empty range. */
export function rms(pcm: Int16Array, start = 0, end = pcm.length): number {
  const from = Math.max(0, start);
  const to = Math.min(pcm.length, end);
  if (to <= from) return 0;
  let sum = 0;
  for (let i = from; i < to; i++) sum += pcm[i]! * pcm[i]!;
  return Math.sqrt(sum / (to - from));
}

/** Level in dB relative to full scale (a full-scale square wave is 0, a full-scale sine about -3); -Infinity for silence. */
export function dbfs(pcm: Int16Array, start = 0, end = pcm.length): number {
  return 20 * Math.log10(rms(pcm, start, end) / FULL_SCALE);
}

/**
 * Power of the component at freqHz (Goertzel over a Hann window), as a fraction of full scale: a sine of
 * amplitude A at that frequency gives (A / 32768)^2 / 2, so a full-scale sine gives about 0.5.
 */
export function tonePower(pcm: Int16Array, sampleRate: number, freqHz: number): number {
  const n = pcm.length;
  if (n < 2) return 0;
  const coeff = 2 * Math.cos((2 * Math.PI * freqHz) / sampleRate);
  // Hann window 0.5 - 0.5 cos(2 pi i / (n - 1)), its cosine advanced by rotation instead of Math.cos per sample.
  const dc = Math.cos((2 * Math.PI) / (n - 1));
  const ds = Math.sin((2 * Math.PI) / (n - 1));
  let c = 1;
  let s = 0;
  let windowSum = 0;
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * c;
    windowSum += w;
    const s0 = (pcm[i]! / FULL_SCALE) * w + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
    const nc = c * dc - s * ds;
    s = s * dc + c * ds;
    c = nc;
  }
  const magnitude2 = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  // |X| = A * windowSum / 2 for a sine of amplitude A, so A^2 / 2 = 2 |X|^2 / windowSum^2.
  return (2 * magnitude2) / (windowSum * windowSum);
}

/** Total milliseconds of 20 ms mu-law frames whose level is above thresholdDbfs (a short last frame counts its length). */
export function activeSpeechMs(mulaw: Uint8Array, thresholdDbfs = -45): number {
  // Compare mean square against the threshold's mean square: no sqrt or log per frame.
  const limit = (FULL_SCALE * 10 ** (thresholdDbfs / 20)) ** 2;
  let active = 0;
  for (let start = 0; start < mulaw.length; start += FRAME_BYTES) {
    const end = Math.min(mulaw.length, start + FRAME_BYTES);
    let sum = 0;
    for (let i = start; i < end; i++) sum += MULAW_SQUARED[mulaw[i]!]!;
    if (sum / (end - start) > limit) active += ((end - start) * FRAME_MS) / FRAME_BYTES;
  }
  return active;
}
