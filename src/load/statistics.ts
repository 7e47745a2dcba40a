/**
 * The load generator's figures: durations kept in a fixed histogram of 1 ms buckets (agent frames arrive 50 times a
 * second per call, so their gaps are counted, not stored), read back as percentiles and as the share within a bound.
 */

/** Durations above this land in the last bucket, read back as this value. */
const MAX_MS = 10_000;

/** Counts durations in 1 ms buckets from 0 to MAX_MS; percentiles are the bucket's upper bound. */
export class Histogram {
  readonly #buckets = new Uint32Array(MAX_MS + 1);
  #count = 0;
  #max = 0;

  /** Counts one duration in ms (negative ones count as 0). */
  add(ms: number): void {
    const i = Math.min(MAX_MS, Math.max(0, Math.ceil(ms)));
    this.#buckets[i]! += 1;
    this.#count += 1;
    if (ms > this.#max) this.#max = ms;
  }

  get count(): number {
    return this.#count;
  }

  /** The largest duration counted, as given; 0 when none was. */
  get max(): number {
    return this.#max;
  }

  /** The smallest bucket bound at or below which `p` percent of the durations lie; null when none was counted. */
  percentile(p: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i <= MAX_MS; i++) {
      seen += this.#buckets[i]!;
      if (seen >= rank) return i;
    }
    return MAX_MS;
  }

  /** The share (0 to 1) of durations at or below `ms`; null when none was counted. */
  shareWithin(ms: number): number | null {
    if (this.#count === 0) return null;
    let seen = 0;
    const last = Math.min(MAX_MS, Math.floor(ms));
    for (let i = 0; i <= last; i++) seen += this.#buckets[i]!;
    return seen / this.#count;
  }
}

/** The p50/p95/p99 of a histogram, in ms; nulls when it is empty. */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export function percentiles(h: Histogram): Percentiles {
  return { p50: h.percentile(50), p95: h.percentile(95), p99: h.percentile(99) };
}

/**
 * Inside a prompt, a break in the agent audio the caller hears longer than this is a stall. The caller's side
 * plays each frame as it arrives, after the ones before it: audio sent ahead (the server's lead) covers a late
 * frame, so a break is how long the playout ran dry before the frame came, not the gap between arrivals.
 */
export const STALL_MS = 60;

/** What one step measured of the agent's side while it held its calls. */
export class StepRecorder {
  /** End of the caller's speech to the first agent audio, for answered turns. */
  readonly latency = new Histogram();
  /** Gaps between consecutive agent frames inside one prompt. */
  readonly frameGaps = new Histogram();
  turns = 0;
  answered = 0;
  /** Arrival gaps over STALL_MS (jitter the playout may still have covered). */
  lateGaps = 0;
  /** Breaks the caller heard over STALL_MS. */
  stalls = 0;
  longestBreakMs = 0;

  /** A turn ended: answered after `latencyMs`, or not answered within the bound (null). */
  turn(latencyMs: number | null): void {
    this.turns += 1;
    if (latencyMs === null) return;
    this.answered += 1;
    this.latency.add(latencyMs);
  }

  /**
   * Two agent frames of one prompt arrived `gapMs` apart; the caller's playout had run dry for `breakMs` (0 when
   * audio sent ahead was still playing) when the second came.
   */
  frameGap(gapMs: number, breakMs: number): void {
    this.frameGaps.add(gapMs);
    if (gapMs > STALL_MS) this.lateGaps += 1;
    if (breakMs > STALL_MS) this.stalls += 1;
    if (breakMs > this.longestBreakMs) this.longestBreakMs = breakMs;
  }
}
