/**
 * Energy voice activity detection with an adaptive noise floor: a frame is speech when its level stands far
 * enough above the line's recent noise floor and above an absolute minimum. Cheap (one pass over the samples,
 * one log10 and one exp per frame, no allocation) and the fallback when Silero is unavailable; it cannot tell
 * speech from loud noise, so noise that stays loud is speech until the floor has risen to it.
 */
import { SwitchboardError } from '../errors.ts';
import { SAMPLE_RATE } from './frames.ts';
import { decodeMulawSample } from './mulaw.ts';

export interface EnergyVadOptions {
  /** The floor never falls below this (digital silence would otherwise drag it to -inf). -70 unless given. */
  minFloorDb?: number;
  /** Frames quieter than this are never speech, whatever the floor. -50 dBFS unless given. */
  absoluteThresholdDb?: number;
  /** Speech must stand this far above the floor. 12 dB unless given. */
  marginDb?: number;
  /** Width of the probability's logistic ramp around the threshold. 2 dB unless given. */
  slopeDb?: number;
  /** Time constant of the floor falling to a quieter level. 100 ms unless given: it must find gaps between words. */
  floorFallMs?: number;
  /** Time constant of the floor rising to a louder level. 3000 ms unless given: slower than any word. */
  floorRiseMs?: number;
  /** Samples per second. SAMPLE_RATE (8000) unless given. */
  sampleRate?: number;
}

const FULL_SCALE_SQUARED = 32768 * 32768;
/** The level of an all-zero frame: below any threshold, and finite so the floor arithmetic stays finite. */
const SILENCE_DB = -120;

// Squared decoded value of each mu-law byte: a mu-law frame's energy is one lookup and one add per byte.
const MULAW_SQUARED = new Float64Array(256);
for (let u = 0; u < 256; u++) MULAW_SQUARED[u] = decodeMulawSample(u) ** 2;

function finite(name: string, value: number, min = -Infinity, max = Infinity): number {
  if (!Number.isFinite(value) || value < min || value > max)
    throw new SwitchboardError('VAD_CONFIG_INVALID', `${name} must be a number in [${min}, ${max}]`, {
      field: name,
      value,
    });
  return value;
}

export class EnergyVad {
  readonly #minFloorDb: number;
  readonly #absoluteDb: number;
  readonly #marginDb: number;
  readonly #slopeDb: number;
  readonly #fallMs: number;
  readonly #riseMs: number;
  readonly #sampleRate: number;
  /** NaN until the first frame, which seeds it: a line's first 20 ms is its noise far more often than speech. */
  #floorDb = Number.NaN;
  #levelDb = SILENCE_DB;
  #probability = 0;
  // Smoothing coefficients for the last frame length seen: frames are nearly always 160 samples.
  #cachedSamples = 0;
  #fallAlpha = 0;
  #riseAlpha = 0;

  constructor(options: EnergyVadOptions = {}) {
    this.#minFloorDb = finite('minFloorDb', options.minFloorDb ?? -70, SILENCE_DB, 0);
    this.#absoluteDb = finite('absoluteThresholdDb', options.absoluteThresholdDb ?? -50, SILENCE_DB, 0);
    this.#marginDb = finite('marginDb', options.marginDb ?? 12, 0, 60);
    this.#slopeDb = finite('slopeDb', options.slopeDb ?? 2, 0.01, 30);
    this.#fallMs = finite('floorFallMs', options.floorFallMs ?? 100, 1, 60_000);
    this.#riseMs = finite('floorRiseMs', options.floorRiseMs ?? 3000, 1, 600_000);
    this.#sampleRate = finite('sampleRate', options.sampleRate ?? SAMPLE_RATE, 1000, 192_000);
  }

  /** Speech probability of pcm[start, end) (one frame of int16 samples), updating the noise floor. */
  process(pcm: Int16Array, start = 0, end = pcm.length): number {
    const to = end < pcm.length ? end : pcm.length;
    const from = start > 0 ? start : 0;
    let sum = 0;
    for (let i = from; i < to; i++) {
      const x = pcm[i]!;
      sum += x * x;
    }
    return this.#update(sum, to - from);
  }

  /** Speech probability of one frame of mu-law bytes (decoded by table, no PCM buffer needed). */
  processMulaw(frame: Uint8Array): number {
    let sum = 0;
    const n = frame.length;
    for (let i = 0; i < n; i++) sum += MULAW_SQUARED[frame[i]!]!;
    return this.#update(sum, n);
  }

  /** The last frame's probability, level and the floor it was judged against. */
  get probability(): number {
    return this.#probability;
  }
  get speech(): boolean {
    return this.#probability >= 0.5;
  }
  get levelDb(): number {
    return this.#levelDb;
  }
  /** NaN before the first frame. */
  get noiseFloorDb(): number {
    return this.#floorDb;
  }

  /** Forget the line: the next frame seeds the floor again (a new call, or a new leg of a transferred one). */
  reset(): void {
    this.#floorDb = Number.NaN;
    this.#levelDb = SILENCE_DB;
    this.#probability = 0;
  }

  #update(sumSquares: number, samples: number): number {
    if (samples <= 0) return this.#probability;
    const meanSquare = sumSquares / samples / FULL_SCALE_SQUARED;
    const level = meanSquare > 1e-12 ? 10 * Math.log10(meanSquare) : SILENCE_DB;
    this.#levelDb = level;
    if (Number.isNaN(this.#floorDb)) this.#floorDb = level > this.#minFloorDb ? level : this.#minFloorDb;

    // Judge against the floor as it was before this frame, so a loud onset is not half-absorbed into it.
    const floorThreshold = this.#floorDb + this.#marginDb;
    const threshold = floorThreshold > this.#absoluteDb ? floorThreshold : this.#absoluteDb;
    const p = 1 / (1 + Math.exp((threshold - level) / this.#slopeDb));
    this.#probability = p;

    if (samples !== this.#cachedSamples) {
      const frameMs = (samples * 1000) / this.#sampleRate;
      this.#fallAlpha = 1 - Math.exp(-frameMs / this.#fallMs);
      this.#riseAlpha = 1 - Math.exp(-frameMs / this.#riseMs);
      this.#cachedSamples = samples;
    }
    const floor = this.#floorDb;
    const next = floor + (level - floor) * (level < floor ? this.#fallAlpha : this.#riseAlpha);
    this.#floorDb = next > this.#minFloorDb ? next : this.#minFloorDb;
    return p;
  }
}
