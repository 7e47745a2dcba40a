/**
 * Band-limited sample-rate conversion: a Kaiser-windowed sinc evaluated as a polyphase filter bank, for any
 * ratio of integer rates. Output sample n sits at input time n * from / to exactly (no group delay), so
 * audio stays time-aligned; the price is that each output waits for half a filter length of input.
 */

export interface ResamplerOptions {
  /** 'good' (default): ~80 dB stopband, passband to 85% of the lower Nyquist. 'fast': ~60 dB, 80%. */
  quality?: 'fast' | 'good';
}

interface Design {
  /** Stopband attenuation in dB. */
  attenuation: number;
  /** -6 dB point, as a fraction of the lower of the two Nyquist frequencies. */
  cutoff: number;
  /** Full transition width, same units; cutoff + width/2 ends just below the lower Nyquist. */
  width: number;
}

const DESIGNS: Record<'fast' | 'good', Design> = {
  good: { attenuation: 80, cutoff: 0.92, width: 0.14 },
  fast: { attenuation: 60, cutoff: 0.9, width: 0.2 },
};

/** Streaming resampler from one integer rate to another; chunked output equals one-shot output. */
export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  /** Upsampling factor L and downsampling factor M of the reduced ratio to/from = L/M. */
  readonly #up: number;
  readonly #down: number;
  /** Half the filter length in input samples; each phase has 2 * half taps. */
  readonly #half: number;
  readonly #taps: number;
  /** L phases of `taps` coefficients, phase-major. */
  readonly #bank: Float32Array;
  readonly #stepInt: number;
  readonly #stepFrac: number;
  readonly #same: boolean;

  /** Input samples from absolute index #bufStart; indices below zero are the zero history before the stream. */
  #buf: Int16Array;
  #bufStart = 0;
  #bufLen = 0;
  /** Input position of the next output: integer part and phase (fraction in units of 1/L). */
  #pos = 0;
  #phase = 0;
  #consumed = 0;
  #emitted = 0;

  /** Design the filter bank for fromRate -> toRate (positive integer rates). */
  constructor(fromRate: number, toRate: number, options: ResamplerOptions = {}) {
    for (const rate of [fromRate, toRate]) {
      if (!Number.isSafeInteger(rate) || rate <= 0)
        throw new RangeError(`sample rate ${rate} is not a positive integer`);
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    const g = gcd(fromRate, toRate);
    this.#up = toRate / g;
    this.#down = fromRate / g;
    this.#same = fromRate === toRate;
    this.#stepInt = Math.floor(this.#down / this.#up);
    this.#stepFrac = this.#down % this.#up;

    const design = DESIGNS[options.quality ?? 'good'];
    const lowNyquist = Math.min(fromRate, toRate) / 2;
    // Frequencies in cycles per input sample, where the filter is defined.
    const fc = (design.cutoff * lowNyquist) / fromRate;
    const df = (design.width * lowNyquist) / fromRate;
    // Kaiser's estimate of the length needed for this attenuation over this transition width.
    const length = Math.ceil((design.attenuation - 7.95) / (14.36 * df)) + 1;
    this.#half = Math.max(2, Math.ceil(length / 2));
    this.#taps = 2 * this.#half;
    this.#bank = this.#same ? new Float32Array(0) : designBank(this.#up, this.#half, fc, design.attenuation);
    this.#buf = new Int16Array(0);
    this.#reset();
  }

  /** Resample the next chunk; returns the output samples that are complete so far. */
  process(input: Int16Array): Int16Array {
    if (this.#same) return input.slice();
    this.#append(input, input.length);
    this.#consumed += input.length;
    return this.#produce(this.#available(this.#bufStart + this.#bufLen));
  }

  /** End of stream: emit the remaining output (round(total in * to / from) in all), then reset for reuse. */
  flush(): Int16Array {
    if (this.#same) return new Int16Array(0);
    const target = Math.round((this.#consumed * this.#up) / this.#down);
    const count = Math.max(0, target - this.#emitted);
    // Zeros after the end stand in for the input the last outputs' filters reach into.
    this.#append(undefined, this.#half);
    const out = this.#produce(Math.min(count, this.#available(this.#bufStart + this.#bufLen)));
    this.#reset();
    return out;
  }

  #reset(): void {
    // half - 1 zeros of history so the first output (at input time 0) has a full filter.
    this.#bufStart = -(this.#half - 1);
    this.#bufLen = this.#half - 1;
    if (this.#buf.length < this.#bufLen) this.#buf = new Int16Array(Math.max(4096, this.#bufLen * 2));
    this.#buf.fill(0, 0, this.#bufLen);
    this.#pos = 0;
    this.#phase = 0;
    this.#consumed = 0;
    this.#emitted = 0;
  }

  /** How many outputs can be made when input up to absolute index end - 1 is present. */
  #available(end: number): number {
    // Output n needs input up to floor(n * M / L) + half; count n >= emitted with that below end.
    const last = end - 1 - this.#half;
    if (last < 0) return 0;
    const total = Math.floor(((last + 1) * this.#up + this.#down - 1) / this.#down);
    return Math.max(0, total - this.#emitted);
  }

  #append(input: Int16Array | undefined, n: number): void {
    // Drop what no future output can reach, then make room.
    const keepFrom = this.#pos - (this.#half - 1);
    const drop = Math.min(this.#bufLen, Math.max(0, keepFrom - this.#bufStart));
    if (drop > 0) {
      this.#buf.copyWithin(0, drop, this.#bufLen);
      this.#bufStart += drop;
      this.#bufLen -= drop;
    }
    const need = this.#bufLen + n;
    if (need > this.#buf.length) {
      const grown = new Int16Array(Math.max(need, this.#buf.length * 2));
      grown.set(this.#buf.subarray(0, this.#bufLen));
      this.#buf = grown;
    }
    if (input) this.#buf.set(input, this.#bufLen);
    else this.#buf.fill(0, this.#bufLen, need);
    this.#bufLen = need;
  }

  #produce(count: number): Int16Array {
    const out = new Int16Array(count);
    const buf = this.#buf;
    const bank = this.#bank;
    const taps = this.#taps;
    const up = this.#up;
    const stepInt = this.#stepInt;
    const stepFrac = this.#stepFrac;
    let pos = this.#pos;
    let phase = this.#phase;
    const origin = this.#bufStart + this.#half - 1;
    for (let n = 0; n < count; n++) {
      const base = pos - origin;
      const coef = phase * taps;
      let acc = 0;
      for (let k = 0; k < taps; k++) acc += buf[base + k]! * bank[coef + k]!;
      const y = Math.round(acc);
      out[n] = y > 32767 ? 32767 : y < -32768 ? -32768 : y;
      pos += stepInt;
      phase += stepFrac;
      if (phase >= up) {
        phase -= up;
        pos += 1;
      }
    }
    this.#pos = pos;
    this.#phase = phase;
    this.#emitted += count;
    return out;
  }
}

/** One-shot resampling of a whole signal, time-aligned, round(length * to / from) samples long. */
export function resample(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return input.slice();
  const r = new Resampler(fromRate, toRate);
  const head = r.process(input);
  const tail = r.flush();
  if (tail.length === 0) return head;
  const out = new Int16Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/**
 * Coefficients for each of `phases` fractional offsets p/phases. Tap k of phase p weighs input sample
 * i0 - (half - 1) + k for an output at time i0 + p/phases, i.e. at distance tau = p/phases + half - 1 - k.
 */
function designBank(phases: number, half: number, fc: number, attenuation: number): Float32Array {
  const taps = 2 * half;
  const bank = new Float32Array(phases * taps);
  const beta = kaiserBeta(attenuation);
  const i0Beta = besselI0(beta);
  const row = new Float64Array(taps);
  for (let p = 0; p < phases; p++) {
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const tau = p / phases + (half - 1) - k;
      const x = tau / half;
      const w = x >= 1 || x <= -1 ? 0 : besselI0(beta * Math.sqrt(1 - x * x)) / i0Beta;
      const arg = 2 * fc * tau;
      const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
      row[k] = 2 * fc * sinc * w;
      sum += row[k]!;
    }
    // Unit DC gain on every phase, so a constant input does not pick up a ripple at the phase rate.
    for (let k = 0; k < taps; k++) bank[p * taps + k] = row[k]! / sum;
  }
  return bank;
}

function kaiserBeta(attenuation: number): number {
  if (attenuation > 50) return 0.1102 * (attenuation - 8.7);
  if (attenuation >= 21) return 0.5842 * (attenuation - 21) ** 0.4 + 0.07886 * (attenuation - 21);
  return 0;
}

/** Modified Bessel function of the first kind, order 0, by its power series (converges fast for beta < 20). */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 64 && term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
