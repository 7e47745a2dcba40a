/**
 * The re-send ring of a Google recognition stream: audio not yet covered by a final result, kept so a new gRPC
 * stream (after a restart or a transient error) hears it again.
 */

/** One frame of mu-law audio and where it lies on the recognition stream's timeline (in samples). */
export interface Frame {
  at: number;
  mulaw: Uint8Array;
}

/** Frames given up by every ring of an engine, since it started. */
export interface RingTotals {
  dropped: number;
  evicted: number;
}

/** The re-send ring: frames since the last final result, oldest first; bounded by samples. */
export class ResendRing {
  readonly #max: number;
  readonly #totals: RingTotals | undefined;
  #frames: Frame[] = [];
  #head = 0;
  #samples = 0;
  /** Frames of the ring already sent on the current gRPC stream (counted from the head). */
  sent = 0;
  /** Frames dropped before they were ever sent: audio Google never heard. */
  dropped = 0;
  /** Frames sent once but pushed out before a final result covered them: lost only if a restart follows. */
  evicted = 0;

  /** A ring of at most `maxSamples`; what it gives up is added to `totals` too, when given. */
  constructor(maxSamples: number, totals?: RingTotals) {
    this.#max = maxSamples;
    this.#totals = totals;
  }

  get length(): number {
    return this.#frames.length - this.#head;
  }

  get samples(): number {
    return this.#samples;
  }

  at(i: number): Frame {
    return this.#frames[this.#head + i]!;
  }

  push(frame: Frame): void {
    this.#frames.push(frame);
    this.#samples += frame.mulaw.length;
    while (this.#samples > this.#max && this.length > 1) this.#shift(true);
  }

  /** Forget every frame that ends at or before `sample`: a final result covers it. */
  trimUntil(sample: number): void {
    while (this.length > 0) {
      const f = this.at(0);
      if (f.at + f.mulaw.length > sample) break;
      this.#shift(false);
    }
  }

  #shift(overflow: boolean): void {
    const f = this.#frames[this.#head++]!;
    this.#samples -= f.mulaw.length;
    if (this.sent > 0) {
      this.sent--;
      if (overflow) {
        this.evicted++;
        if (this.#totals) this.#totals.evicted++;
      }
    } else if (overflow) {
      this.dropped++;
      if (this.#totals) this.#totals.dropped++;
    }
    // Compact now and then, so the array does not grow for the whole stream.
    if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head);
      this.#head = 0;
    }
  }
}
