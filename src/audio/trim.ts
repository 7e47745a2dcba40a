/**
 * Trimming the silence around synthesized speech. Engines pad each utterance with silence (flite: about 150 ms
 * before and 150 to 230 ms after); before the first word it is pure delay for the caller, and between sentences
 * played back to back it adds up to pauses longer than a speaker's.
 */
import { SAMPLE_RATE } from './frames.ts';
import { decodeMulawSample } from './mulaw.ts';

export interface TrimOptions {
  /** Silence kept before the first sound, so a soft onset (an "f", an "h") is not clipped. Default 30 ms. */
  keepLeadMs?: number;
  /** Silence kept after the last sound: the pause before whatever plays next. Default 200 ms. */
  keepTrailMs?: number;
  /** A sample louder than this (in int16 units, absolute) is sound. Default 100, about -50 dBFS. */
  threshold?: number;
}

/**
 * `mulaw` (8 kHz) without the silence beyond `keepLeadMs` before its first sound and `keepTrailMs` after its last.
 * Audio with no sound at all is returned as it is. The result is a copy when anything was cut.
 */
export function trimSilence(mulaw: Uint8Array, options: TrimOptions = {}): Uint8Array {
  const threshold = options.threshold ?? 100;
  const keepLead = Math.round(((options.keepLeadMs ?? 30) * SAMPLE_RATE) / 1000);
  const keepTrail = Math.round(((options.keepTrailMs ?? 200) * SAMPLE_RATE) / 1000);
  // Which mu-law bytes are sound: one lookup per sample instead of a decode.
  const loud = new Uint8Array(256);
  for (let u = 0; u < 256; u++) loud[u] = Math.abs(decodeMulawSample(u)) > threshold ? 1 : 0;
  let first = 0;
  while (first < mulaw.length && loud[mulaw[first]!] === 0) first++;
  if (first === mulaw.length) return mulaw;
  let last = mulaw.length - 1;
  while (loud[mulaw[last]!] === 0) last--;
  const start = Math.max(0, first - keepLead);
  const end = Math.min(mulaw.length, last + 1 + keepTrail);
  return start === 0 && end === mulaw.length ? mulaw : mulaw.slice(start, end);
}
