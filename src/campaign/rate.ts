/**
 * How fast a campaign starts calls: a --rate option ("1/s", "30/m", "3600/h") and the pacer that holds starts to
 * it. The pacer is a token bucket of burst 1, so starts come evenly spaced and an idle spell never saves up a
 * burst of calls (Twilio counts calls per second per account, and a burst is what it refuses). Time comes from an
 * injected `now`, so tests run it on a fake clock.
 */
import { SwitchboardError } from '../errors.ts';

/** The fastest rate accepted: more is past what one Twilio account is allowed to start. */
export const MAX_PER_SECOND = 100;

const RATE = /^(\d+(?:\.\d+)?|\.\d+)\s*\/\s*(s|sec|second|m|min|minute|h|hr|hour)$/i;
const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** "10/s", "0.5/s", "30/m", "100/min", "3600/h" as calls per second; CAMPAIGN_INVALID for anything else. */
export function parseRate(text: string): { perSecond: number } {
  const m = RATE.exec(text.trim());
  if (!m) {
    throw new SwitchboardError(
      'CAMPAIGN_INVALID',
      `a rate is calls per second, minute or hour, such as 1/s, 30/m or 3600/h, not "${text}"`,
    );
  }
  const perSecond = Number(m[1]) / SECONDS[m[2]!.charAt(0).toLowerCase()]!;
  if (!(perSecond > 0) || perSecond > MAX_PER_SECOND) {
    throw new SwitchboardError(
      'CAMPAIGN_INVALID',
      `rate "${text}" must be above zero and at most ${MAX_PER_SECOND}/s`,
    );
  }
  return { perSecond };
}

/** Spaces call starts 1/perSecond apart: ask `delayMs()`, wait that long, then `take()` the start. */
export class StartPacer {
  readonly #intervalMs: number;
  readonly #now: () => number;
  /** When the next start is allowed, on the `now` clock. */
  #next: number;

  constructor(perSecond: number, now: () => number = () => performance.now()) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) {
      throw new SwitchboardError('CAMPAIGN_INVALID', `a start rate must be above zero, not ${perSecond}/s`);
    }
    this.#intervalMs = 1000 / perSecond;
    this.#now = now;
    this.#next = now();
  }

  /** Milliseconds until the next start is allowed; 0 when it is allowed now. */
  delayMs(): number {
    return Math.max(0, this.#next - this.#now());
  }

  /**
   * Takes the next start. Taken early, it still counts: the start after it moves back by a whole interval, so
   * starts never run ahead of the rate.
   */
  take(): void {
    this.#next = Math.max(this.#next, this.#now()) + this.#intervalMs;
  }
}
