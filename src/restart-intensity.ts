/**
 * Restart intensity, as OTP supervisors have it: a supervisor counts the failures it restarted from within a
 * sliding window and gives up once there are too many, so something that fails at once is not restarted
 * forever. Used by the call supervisor (src/call/supervisor.ts) and the speech engines' child-process pool
 * (src/speech/child-pool.ts).
 */

export interface RestartIntensityOptions {
  /** How many events within `withinMs` exhaust it; 0 gives up on the first. */
  max: number;
  /** The window, in ms. */
  withinMs: number;
  /** Milliseconds (monotonic or wall clock; only differences matter). */
  now: () => number;
}

export class RestartIntensity {
  readonly max: number;
  readonly withinMs: number;
  readonly #now: () => number;
  #times: number[] = [];

  constructor(options: RestartIntensityOptions) {
    this.max = options.max;
    this.withinMs = options.withinMs;
    this.#now = options.now;
  }

  /** Events within the window; older ones are forgotten. */
  recent(): number {
    const since = this.#now() - this.withinMs;
    this.#times = this.#times.filter((t) => t > since);
    return this.#times.length;
  }

  /** `max` events or more fall within the window: stop restarting for now. */
  exhausted(): boolean {
    return this.recent() >= this.max;
  }

  /** Count one event now. */
  record(): void {
    this.#times.push(this.#now());
  }

  /** Events counted when the window was last looked at, without moving it. */
  get counted(): number {
    return this.#times.length;
  }
}
