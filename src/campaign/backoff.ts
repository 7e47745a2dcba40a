/**
 * When to call a number again after a call that failed or was not answered: an exponential delay from a base
 * (--retry-delay 5m: 5m, 10m, 20m, ...), capped; and the durations those options are written in. Deterministic,
 * with no jitter: a campaign's retries are already spread out by its own pacing.
 */
import { SwitchboardError } from '../errors.ts';

/** The longest delay a Node timer keeps: longer ones fire at once (with only a warning). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const DURATION = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The delay before attempt `attempt` + 1, for attempt 1, 2, ...: baseMs * 2^(attempt-1), at most maxMs. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs = 3_600_000): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt counts from 1, not ${attempt}`);
  }
  // 2 ** 1100 is Infinity, which min() caps like any other large number.
  return Math.min(maxMs, baseMs * 2 ** (attempt - 1));
}

/** "250ms", "300s", "5m", "1h" in ms, above zero and within a timer's range; CAMPAIGN_INVALID otherwise. */
export function parseDuration(text: string, option = 'a duration'): number {
  const m = DURATION.exec(text.trim());
  const ms = m ? Math.round(Number(m[1]) * UNIT_MS[m[2]!]!) : NaN;
  if (!(ms >= 1 && ms <= MAX_DURATION_MS)) {
    throw new SwitchboardError(
      'CAMPAIGN_INVALID',
      m
        ? `${option} must be at least 1ms and at most 24 days, not "${text}"`
        : `${option} is a number and a unit (ms, s, m or h), such as 250ms, 300s, 5m or 1h, not "${text}"`,
    );
  }
  return ms;
}
