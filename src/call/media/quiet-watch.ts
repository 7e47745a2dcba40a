/**
 * A media stream that goes quiet on the wire: one that never sends `start`, or a live one that stops sending
 * (Twilio sends audio every 20 ms, so a live stream is never quiet for long). Checked on a timer at half the
 * shorter limit; the session decides what each means.
 */
import type { Clock, Timer } from '../../clock.ts';
import type { SessionPhase } from './stream-protocol.ts';

export interface QuietLimits {
  /** Without `start` this long after opening (ms). */
  noStartMs: number;
  /** Live, without any message this long (ms). */
  idleMs: number;
}

export class QuietWatch {
  readonly #clock: Clock;
  #heardAt: number;
  readonly #timer: Timer;

  constructor(
    clock: Clock,
    limits: QuietLimits,
    phase: () => SessionPhase,
    on: { noStart(quietMs: number): void; idle(quietMs: number): void },
  ) {
    this.#clock = clock;
    this.#heardAt = clock.monotonic();
    this.#timer = clock.every(Math.min(limits.noStartMs, limits.idleMs) / 2, () => {
      const quietMs = Math.round(clock.monotonic() - this.#heardAt);
      const now = phase();
      if (now === 'new' && quietMs >= limits.noStartMs) on.noStart(quietMs);
      else if (now === 'live' && quietMs >= limits.idleMs) on.idle(quietMs);
    });
  }

  /** A message came. */
  heard(): void {
    this.#heardAt = this.#clock.monotonic();
  }

  stop(): void {
    this.#timer.cancel();
  }
}
