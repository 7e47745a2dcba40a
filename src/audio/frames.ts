/** Twilio Media Streams framing: 8 kHz mono mu-law in 20 ms frames of 160 bytes. */
import { Buffer } from 'node:buffer';
import { MULAW_SILENCE } from './mulaw.ts';

export const SAMPLE_RATE = 8000;
export const FRAME_MS = 20;
/** Samples in one frame: 160. */
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;
/** Bytes in one frame of mu-law, one byte a sample: 160. */
export const FRAME_BYTES = FRAME_SAMPLES;

const BYTES_PER_MS = SAMPLE_RATE / 1000;

/** Cut mu-law audio into 160-byte frames: views of the input, except a short last frame padded with silence. */
export function splitFrames(mulaw: Uint8Array): Uint8Array[] {
  const full = Math.floor(mulaw.length / FRAME_BYTES);
  const frames: Uint8Array[] = new Array<Uint8Array>(Math.ceil(mulaw.length / FRAME_BYTES));
  for (let i = 0; i < full; i++) frames[i] = mulaw.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES);
  const rest = mulaw.length - full * FRAME_BYTES;
  if (rest > 0) {
    const last = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
    last.set(mulaw.subarray(full * FRAME_BYTES));
    frames[full] = last;
  }
  return frames;
}

/** One base64 payload per 20 ms frame (last padded), computed once per prompt so sending costs nothing. */
export function framesToBase64(mulaw: Uint8Array): string[] {
  const frames = splitFrames(mulaw);
  const out = new Array<string>(frames.length);
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    out[i] = Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
  }
  return out;
}

/** Playing time in milliseconds of this many bytes of 8 kHz mu-law. */
export function durationMs(byteLength: number): number {
  return byteLength / BYTES_PER_MS;
}

/** `ms` milliseconds of mu-law silence (rounded to whole samples). */
export function silence(ms: number): Uint8Array {
  const n = Math.max(0, Math.round(ms * BYTES_PER_MS));
  return new Uint8Array(n).fill(MULAW_SILENCE);
}
