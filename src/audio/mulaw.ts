/**
 * ITU-T G.711 mu-law, the codec of Twilio Media Streams. Uses the usual 16-bit formulation (bias 0x84, clip
 * 32635); both directions go through tables built once at module load, so a 20 ms frame costs 160 lookups.
 */

/** The mu-law byte for a zero sample: what silence looks like on the wire. */
export const MULAW_SILENCE = 0xff;

const BIAS = 0x84;
const CLIP = 32635;

/** Encode one sample straight from the G.711 segment rules (the tables below are built from this). */
function encodeDirect(pcm16: number): number {
  let x = Math.round(pcm16);
  let sign = 0;
  if (x < 0) {
    sign = 0x80;
    x = -x;
  }
  if (x > CLIP) x = CLIP;
  x += BIAS;
  // The biased magnitude lies in [2^7, 2^15): the segment is the position of its top bit above bit 7.
  const exponent = 31 - Math.clz32(x) - 7;
  const mantissa = (x >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Decode one byte from the G.711 rules: the segment's base plus half a step, so error is at most half a step. */
function decodeDirect(u: number): number {
  const v = ~u & 0xff;
  const exponent = (v >> 4) & 0x07;
  const magnitude = ((((v & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return v & 0x80 ? -magnitude : magnitude;
}

const DECODE = new Int16Array(256);
for (let u = 0; u < 256; u++) DECODE[u] = decodeDirect(u);

// One entry per int16 value, indexed by the sample's low 16 bits: exact for every input and a single lookup.
const ENCODE = new Uint8Array(65536);
for (let i = 0; i < 65536; i++) ENCODE[i] = encodeDirect((i << 16) >> 16);

/** Decode one mu-law byte to a 16-bit linear sample. */
export function decodeMulawSample(u: number): number {
  return DECODE[u & 0xff]!;
}

/** Encode one linear sample (clamped to int16, rounded) to a mu-law byte. */
export function encodeMulawSample(pcm16: number): number {
  if (Number.isNaN(pcm16)) return MULAW_SILENCE;
  const x = pcm16 >= 32767 ? 32767 : pcm16 <= -32768 ? -32768 : Math.round(pcm16);
  return ENCODE[x & 0xffff]!;
}

/** Decode mu-law bytes to PCM16, into `dst` when given (returns a view of its first src.length samples). */
export function mulawToPcm(src: Uint8Array, dst?: Int16Array): Int16Array {
  const n = src.length;
  const out = target(dst, n, Int16Array);
  for (let i = 0; i < n; i++) out[i] = DECODE[src[i]!]!;
  return out;
}

/** Encode PCM16 samples to mu-law bytes, into `dst` when given (returns a view of its first src.length bytes). */
export function pcmToMulaw(src: Int16Array, dst?: Uint8Array): Uint8Array {
  const n = src.length;
  const out = target(dst, n, Uint8Array);
  for (let i = 0; i < n; i++) out[i] = ENCODE[src[i]! & 0xffff]!;
  return out;
}

function target<T extends Int16Array | Uint8Array>(
  dst: T | undefined,
  n: number,
  ctor: new (n: number) => T,
): T {
  if (!dst) return new ctor(n);
  if (dst.length < n) throw new RangeError(`destination holds ${dst.length} samples, need ${n}`);
  return (dst.length === n ? dst : dst.subarray(0, n)) as T;
}
