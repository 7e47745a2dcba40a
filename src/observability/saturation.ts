/**
 * Whether this process is saturated, measured in the process itself: each window (a second) it reads the
 * event loop's p99 delay, the rate of outbound audio frames sent late and the rate of caller audio dropped by
 * the VAD and the recognizer. A signal over its threshold for 2 windows in a row saturates the process; it
 * clears once every signal has stayed under half its threshold for 3 windows. The gap between the two keeps a
 * process near its limit from flapping between ready and busy at every window.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { systemClock, type Clock, type Timer } from '../clock.ts';

/** What saturated the process, as the `reason` of a refusal. */
export type SaturationReason = 'loop_delay' | 'frames_late' | 'audio_dropped' | 'slow_turns';

export interface SaturationThresholds {
  /** p99 event-loop delay over a window, ms (SATURATION_LOOP_DELAY_MS). */
  loopDelayMs: number;
  /** Outbound frames sent more than 20 ms after they were due, per second (SATURATION_FRAMES_LATE). */
  framesLatePerS: number;
  /** VAD chunks and recognizer frames dropped because a call fell behind, per second (SATURATION_DROPPED). */
  droppedPerS: number;
  /**
   * Share of a window's turns (at least MIN_TURNS of them) whose agent answer began more than SLOW_TURN_MS after
   * the end of the turn was decided, 0 to 1 (SATURATION_SLOW_TURNS, in percent): recognition, understanding or
   * synthesis falling behind, which the event loop does not show when the work runs in other processes.
   */
  slowTurnsShare: number;
}

/** A turn answered later than this after its end was decided is slow (a bucket of `switchboard_turn_latency_ms`). */
export const SLOW_TURN_MS = 1000;
/** Fewer turns than this in a window say nothing about their share. */
const MIN_TURNS = 3;

/**
 * Defaults. The pacer sends agent audio up to 60 ms ahead on a 20 ms tick, so a loop that stalls for up to
 * 60 ms still keeps the caller's buffer fed; past that the caller hears a gap. (A process warming up after its
 * start, its code not yet optimized, runs at about 40 ms p99 while calls ramp up, with no gap heard: a lower
 * threshold refuses calls it could take.) 50 late frames a second is one call's
 * worth of audio late every second; 20 dropped chunks a second is calls' hearing falling behind.
 */
export const DEFAULT_SATURATION: SaturationThresholds = {
  loopDelayMs: 60,
  framesLatePerS: 50,
  droppedPerS: 20,
  slowTurnsShare: 0.1,
};

/** Where the monitor reads its signals; counters are totals since start, the monitor takes their rate. */
export interface SaturationSignals {
  /** The p99 event-loop delay since the last call, ms (and start a new window). */
  loopDelayMs(): number;
  /** Outbound frames sent late, since start. */
  framesLate(): number;
  /** VAD chunks plus recognizer frames dropped, since start. */
  dropped(): number;
  /** Turns answered since start, and how many of them slowly (over SLOW_TURN_MS); absent: not measured. */
  turns?(): { total: number; slow: number };
}

/** One window's figures. */
export interface SaturationSample {
  loopDelayMs: number;
  framesLatePerS: number;
  droppedPerS: number;
  slowTurnsShare: number;
}

export interface SaturationMonitorOptions {
  signals: SaturationSignals;
  thresholds?: SaturationThresholds;
  clock?: Clock;
  /** Length of a window, ms (1000). */
  windowMs?: number;
  /** Told after each window, e.g. to set gauges. */
  onSample?: (sample: SaturationSample, saturated: boolean) => void;
}

/** Windows a signal must stay over its threshold to saturate the process. */
const WINDOWS_TO_SATURATE = 2;
/** Windows every signal must stay under half its threshold to clear saturation. */
const WINDOWS_TO_CLEAR = 3;

const SIGNALS: readonly { reason: SaturationReason; key: keyof SaturationSample }[] = [
  { reason: 'loop_delay', key: 'loopDelayMs' },
  { reason: 'frames_late', key: 'framesLatePerS' },
  { reason: 'audio_dropped', key: 'droppedPerS' },
  { reason: 'slow_turns', key: 'slowTurnsShare' },
];
const THRESHOLD_OF: Record<keyof SaturationSample, keyof SaturationThresholds> = {
  loopDelayMs: 'loopDelayMs',
  framesLatePerS: 'framesLatePerS',
  droppedPerS: 'droppedPerS',
  slowTurnsShare: 'slowTurnsShare',
};

interface Totals {
  framesLate: number;
  dropped: number;
  turns: number;
  slowTurns: number;
  at: number;
}

/** The share of `total` that is `part`, or 0 when there are too few to say. */
function share(part: number, total: number): number {
  return total < MIN_TURNS ? 0 : Math.max(0, part) / total;
}

export class SaturationMonitor {
  readonly #opts: SaturationMonitorOptions;
  readonly #thresholds: SaturationThresholds;
  readonly #clock: Clock;
  readonly #windowMs: number;
  /** Consecutive windows each signal has been over its threshold. */
  readonly #over = new Map<SaturationReason, number>();
  #calm = 0;
  #reason: SaturationReason | null = null;
  #last: SaturationSample = { loopDelayMs: 0, framesLatePerS: 0, droppedPerS: 0, slowTurnsShare: 0 };
  #lastTotals: Totals;
  #timer: Timer | null = null;

  constructor(opts: SaturationMonitorOptions) {
    this.#opts = opts;
    this.#thresholds = opts.thresholds ?? DEFAULT_SATURATION;
    this.#clock = opts.clock ?? systemClock;
    this.#windowMs = opts.windowMs ?? 1000;
    this.#lastTotals = this.#totals();
  }

  /** Measure a window every `windowMs` until stopped. */
  start(): void {
    if (this.#timer !== null) return;
    this.#lastTotals = this.#totals();
    this.#timer = this.#clock.every(this.#windowMs, () => this.sample());
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }

  /** Whether the process is saturated now. */
  get saturated(): boolean {
    return this.#reason !== null;
  }

  /** The signal that saturated the process; null when it is not. */
  get reason(): SaturationReason | null {
    return this.#reason;
  }

  /** The last window's figures. */
  get last(): SaturationSample {
    return this.#last;
  }

  /** Close one window: read the signals and move the state (the timer calls it; tests may too). */
  sample(): void {
    const totals = this.#totals();
    const seconds = Math.max(1e-3, (totals.at - this.#lastTotals.at) / 1000);
    const sample: SaturationSample = {
      loopDelayMs: this.#opts.signals.loopDelayMs(),
      // A counter that went backwards (a restarted engine) counts as nothing dropped, not as negative.
      framesLatePerS: Math.max(0, totals.framesLate - this.#lastTotals.framesLate) / seconds,
      droppedPerS: Math.max(0, totals.dropped - this.#lastTotals.dropped) / seconds,
      slowTurnsShare: share(
        totals.slowTurns - this.#lastTotals.slowTurns,
        totals.turns - this.#lastTotals.turns,
      ),
    };
    this.#lastTotals = totals;
    this.#last = sample;
    let calm = true;
    for (const { reason, key } of SIGNALS) {
      const threshold = this.#thresholds[THRESHOLD_OF[key]];
      const value = sample[key];
      this.#over.set(reason, value > threshold ? (this.#over.get(reason) ?? 0) + 1 : 0);
      if (value >= threshold / 2) calm = false;
    }
    this.#calm = calm ? this.#calm + 1 : 0;
    if (this.#reason === null) {
      const over = SIGNALS.find(({ reason }) => (this.#over.get(reason) ?? 0) >= WINDOWS_TO_SATURATE);
      this.#reason = over?.reason ?? null;
    } else if (this.#calm >= WINDOWS_TO_CLEAR) {
      this.#reason = null;
    }
    this.#opts.onSample?.(sample, this.#reason !== null);
  }

  #totals(): Totals {
    const signals = this.#opts.signals;
    const turns = signals.turns?.() ?? { total: 0, slow: 0 };
    return {
      framesLate: signals.framesLate(),
      dropped: signals.dropped(),
      turns: turns.total,
      slowTurns: turns.slow,
      at: this.#clock.monotonic(),
    };
  }
}

/** How often the event-loop delay is sampled, ms; reported delays include it, so it is taken off. */
const LOOP_RESOLUTION_MS = 10;

/** The event loop's p99 delay per window, from perf_hooks' `monitorEventLoopDelay`. */
export class EventLoopDelay {
  readonly #histogram: IntervalHistogram;

  constructor() {
    this.#histogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.#histogram.enable();
  }

  /** The p99 delay since the last call, ms, and start a new window. */
  p99Ms(): number {
    const h = this.#histogram;
    const p99 = h.count === 0 ? 0 : h.percentile(99) / 1e6 - LOOP_RESOLUTION_MS;
    h.reset();
    return Math.max(0, p99);
  }

  stop(): void {
    this.#histogram.disable();
  }
}
