/**
 * How fast a caller's keys are taken: a token bucket per call. A person presses at most a few keys a second; a
 * client sending thousands would fill the call's journal (each key is a record) and its log. Keys past the rate
 * are dropped and counted, never delivered or journaled.
 */

/** Keys a caller may press in a burst, and the rate they come back at. */
export const KEY_BURST = 20;
export const KEYS_PER_SECOND = 10;

export class KeyRate {
  #tokens = KEY_BURST;
  #at: number | null = null;
  #dropped = 0;

  /** Whether a key pressed at `nowMs` (monotonic) is taken; false counts it as dropped. */
  take(nowMs: number): boolean {
    if (this.#at !== null) {
      this.#tokens = Math.min(KEY_BURST, this.#tokens + ((nowMs - this.#at) * KEYS_PER_SECOND) / 1000);
    }
    this.#at = nowMs;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    this.#dropped += 1;
    return false;
  }

  /** Keys dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }
}
