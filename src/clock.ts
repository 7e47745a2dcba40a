/**
 * Time as the call layer sees it. Every timer a call arms (no-input timers, the VAD batch timer, the pacer's tick,
 * deadlines) goes through a `Clock`, so tests drive time with a manual clock instead of sleeping for it.
 */

/** A timer armed by a clock; cancelling twice, or after it fired, does nothing. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch: the `at` of journaled events. */
  now(): number;
  /** Monotonic milliseconds for durations (pacing, latency); only differences mean anything. */
  monotonic(): number;
  /** Run `fn` once after `ms`. A clock's timers never keep the process alive by themselves. */
  after(ms: number, fn: () => void): Timer;
  /** Run `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Timer;
}

/** The real clock: `Date.now`, `performance.now` and Node's unreferenced timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  after(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
  every(ms, fn) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
};
