/**
 * Real-time pacing of one call's outbound audio. Frames go out no more than `leadMs` ahead of a timeline
 * anchored at the moment playback started, so what has been sent is (within the lead) what the caller has
 * heard, a barge-in drops little, and marks come back from Twilio close to when their prompt really ended.
 */
import { systemClock, type Clock, type Timer } from '../clock.ts';
import { SwitchboardError } from '../errors.ts';
import { FRAME_MS } from './frames.ts';

/** A frame sent more than this long after it was due went out late: the caller hears a gap before it. */
export const LATE_FRAME_MS = 20;

/** Where a pacer sends to: normally the call's Media Streams socket. */
export interface PacerSink {
  sendMedia(base64Payload: string): void;
  sendMark(name: string): void;
}

export interface PacerOptions {
  /** How far ahead of real time frames may be sent (default 60 ms). */
  leadMs?: number;
  /** Most audio that may wait in the queue (default 10 minutes). */
  maxQueuedMs?: number;
}

interface Item {
  frames: readonly string[];
  index: number;
  /** Sent after the last frame; null for audio that continues in the next item (a prompt's first sentences). */
  mark: string | null;
}

/** Sends one call's queued prompts frame by frame at real-time rate, each followed by its mark. */
export class Pacer {
  readonly #sink: PacerSink;
  readonly #leadMs: number;
  readonly #maxQueuedMs: number;
  /** Queue of prompts; items before #head are done. Holds the caller's frame arrays, never copies. */
  #items: (Item | undefined)[] = [];
  #head = 0;
  #queuedFrames = 0;
  #sentFrames = 0;
  #lateFrames = 0;
  /** Timeline: frame k since the anchor is due at #startMs + k * 20 ms. -Infinity forces a re-anchor. */
  #startMs = -Infinity;
  #sentSinceAnchor = 0;
  /** The queue ran empty since the last pump that sent something. */
  #drained = true;

  /** A pacer sending to `sink`. */
  constructor(sink: PacerSink, options: PacerOptions = {}) {
    this.#sink = sink;
    this.#leadMs = options.leadMs ?? 60;
    this.#maxQueuedMs = options.maxQueuedMs ?? 600_000;
  }

  /**
   * Queue frames (base64, 20 ms each) followed by a mark, or by none when `mark` is null; no frames and a mark
   * queues the mark alone. Throws AUDIO_QUEUE_FULL past maxQueuedMs.
   */
  enqueue(frames: readonly string[], mark: string | null): void {
    const ms = (this.#queuedFrames + frames.length) * FRAME_MS;
    if (ms > this.#maxQueuedMs) {
      throw new SwitchboardError(
        'AUDIO_QUEUE_FULL',
        `${ms} ms would be queued, limit ${this.#maxQueuedMs} ms`,
        {
          queuedMs: this.queuedMs,
          promptMs: frames.length * FRAME_MS,
        },
      );
    }
    this.#items.push({ frames, index: 0, mark });
    this.#queuedFrames += frames.length;
  }

  /**
   * Send every frame due by nowMs + lead, and each prompt's mark right after its last frame. Returns how many of
   * the frames sent went out more than LATE_FRAME_MS after they were due (the pump itself came late).
   */
  pump(nowMs: number): number {
    if (this.#head >= this.#items.length) return 0;
    if (this.#drained) {
      // Playback restarts: anchor now if what was sent before has finished playing, else continue seamlessly.
      if (nowMs >= this.#startMs + this.#sentSinceAnchor * FRAME_MS) {
        this.#startMs = nowMs;
        this.#sentSinceAnchor = 0;
      }
      this.#drained = false;
    }
    const budgetMs = nowMs - this.#startMs + this.#leadMs;
    // Frame k since the anchor is late when it is sent after startMs + k * 20 + LATE_FRAME_MS.
    const lateBelow = (nowMs - this.#startMs - LATE_FRAME_MS) / FRAME_MS;
    let late = 0;
    // State is updated before each sink call, so a sink that throws (or calls clear) leaves the pacer consistent.
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head]!;
      const frames = item.frames;
      while (item.index < frames.length) {
        if (this.#sentSinceAnchor * FRAME_MS >= budgetMs) return late;
        const payload = frames[item.index]!;
        if (this.#sentSinceAnchor < lateBelow) {
          late += 1;
          this.#lateFrames += 1;
        }
        item.index += 1;
        this.#sentSinceAnchor += 1;
        this.#sentFrames += 1;
        this.#queuedFrames -= 1;
        this.#sink.sendMedia(payload);
        if (this.#items[this.#head] !== item) return late; // cleared from inside the sink
      }
      this.#items[this.#head] = undefined;
      this.#head += 1;
      if (this.#head >= this.#items.length) this.#empty();
      if (item.mark !== null) this.#sink.sendMark(item.mark);
    }
    return late;
  }

  /** Drop everything not yet sent; returns the marks dropped unsent, in order. Playback re-anchors at the next pump. */
  clear(): string[] {
    const dropped: string[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const mark = this.#items[i]!.mark;
      if (mark !== null) dropped.push(mark);
    }
    this.#empty();
    // The caller clears Twilio's buffer too, so what was sent ahead is gone: start the next prompt right away.
    this.#startMs = -Infinity;
    return dropped;
  }

  /** Milliseconds of audio queued but not yet sent. */
  get queuedMs(): number {
    return this.#queuedFrames * FRAME_MS;
  }

  /** True when nothing (no frame, no mark) is waiting. */
  get idle(): boolean {
    return this.#head >= this.#items.length;
  }

  /** Frames sent that have had time to play by `nowMs`: sentFrames less those sent ahead of real time. */
  playedFrames(nowMs: number): number {
    const due = Math.max(0, Math.floor((nowMs - this.#startMs) / FRAME_MS));
    return this.#sentFrames - Math.max(0, this.#sentSinceAnchor - due);
  }

  /** Frames sent since the pacer was made. */
  get sentFrames(): number {
    return this.#sentFrames;
  }

  /** Frames sent more than LATE_FRAME_MS after they were due, since the pacer was made. */
  get lateFrames(): number {
    return this.#lateFrames;
  }

  #empty(): void {
    // Reuse the array: no garbage per prompt beyond the item itself.
    this.#items.length = 0;
    this.#head = 0;
    this.#queuedFrames = 0;
    this.#drained = true;
  }
}

export interface PacerClockOptions {
  /** Tick period (default 20 ms). */
  intervalMs?: number;
  /** Where time and the tick timer come from (default the system clock: performance.now, real timers). */
  clock?: Clock;
  /** Milliseconds for pumping, overriding the clock's monotonic time (tests that set time by hand). */
  now?: () => number;
  /** Called when a pacer's pump throws; the other pacers are still pumped. */
  onError?: (err: unknown, pacer: Pacer) => void;
  /** Called after a pump that sent frames late (see Pacer.pump), with how many: once per tick, all calls summed. */
  onLate?: (frames: number) => void;
}

/** One shared timer pumping every live call's pacer with the same `now`; runs only while it has pacers. */
export class PacerClock {
  readonly #pacers = new Set<Pacer>();
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #onError: ((err: unknown, pacer: Pacer) => void) | undefined;
  readonly #onLate: ((frames: number) => void) | undefined;
  readonly #clock: Clock;
  #timer: Timer | undefined;
  #failures = 0;
  #lateFrames = 0;

  /** A clock; no timer runs until the first pacer is added. */
  constructor(options: PacerClockOptions = {}) {
    this.#intervalMs = options.intervalMs ?? FRAME_MS;
    const clock = options.clock ?? systemClock;
    this.#clock = clock;
    this.#now = options.now ?? (() => clock.monotonic());
    this.#onError = options.onError;
    this.#onLate = options.onLate;
  }

  /** Start pumping `p` on every tick. */
  add(p: Pacer): void {
    this.#pacers.add(p);
    // A clock's timers never keep the process alive: pacing alone must not.
    if (this.#timer === undefined) this.#timer = this.#clock.every(this.#intervalMs, () => this.tick());
  }

  /** Stop pumping `p`; the timer stops with the last pacer. */
  remove(p: Pacer): void {
    this.#pacers.delete(p);
    if (this.#pacers.size === 0) this.#stopTimer();
  }

  /** The time pacers are pumped with: a pacer's `playedFrames` and out-of-tick pumps must use the same. */
  now(): number {
    return this.#now();
  }

  /** Pump every pacer once with the current time (what the timer calls; public for tests). */
  tick(): void {
    const now = this.#now();
    let late = 0;
    for (const p of this.#pacers) {
      try {
        late += p.pump(now);
      } catch (err) {
        this.#failures += 1;
        try {
          this.#onError?.(err, p);
        } catch {
          // An error handler that throws must not stop the other calls either.
        }
      }
    }
    this.#late(late);
  }

  /** Pump one pacer now, between ticks (a prompt just queued); its late frames are counted like a tick's. */
  pump(p: Pacer): void {
    this.#late(p.pump(this.#now()));
  }

  /** Remove all pacers and stop the timer. */
  stop(): void {
    this.#pacers.clear();
    this.#stopTimer();
  }

  /** Number of registered pacers. */
  get size(): number {
    return this.#pacers.size;
  }

  /** Pumps that threw since the clock was made. */
  get failures(): number {
    return this.#failures;
  }

  /** Frames of every pacer sent more than LATE_FRAME_MS after they were due, since the clock was made. */
  get lateFrames(): number {
    return this.#lateFrames;
  }

  /** Whether the shared timer is running. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  #late(frames: number): void {
    if (frames === 0) return;
    this.#lateFrames += frames;
    try {
      this.#onLate?.(frames);
    } catch {
      // Counting must never stop the audio.
    }
  }

  #stopTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}
