/**
 * A clock that moves only when a test says so: timers fire in order of due time (then of arming) inside
 * `advance`, so a test of a 8-second no-input timeout takes no time at all.
 */
import type { Clock, Timer } from '../../src/clock.ts';

interface Pending {
  due: number;
  seq: number;
  every: number | null;
  fn: () => void;
  live: boolean;
}

export class ManualClock implements Clock {
  #wall: number;
  #mono = 0;
  #seq = 0;
  readonly #pending: Pending[] = [];

  constructor(startWallMs = Date.UTC(2026, 0, 1)) {
    this.#wall = startWallMs;
  }

  now(): number {
    return this.#wall;
  }

  monotonic(): number {
    return this.#mono;
  }

  after(ms: number, fn: () => void): Timer {
    return this.#arm(ms, null, fn);
  }

  every(ms: number, fn: () => void): Timer {
    return this.#arm(ms, Math.max(1, ms), fn);
  }

  /** Timers still armed. */
  get pending(): number {
    return this.#pending.filter((p) => p.live).length;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way, at its due time. */
  advance(ms: number): void {
    const end = this.#mono + ms;
    for (;;) {
      const next = this.#next();
      if (!next || next.due > end) break;
      this.#moveTo(next.due);
      if (next.every === null) next.live = false;
      else next.due += next.every;
      next.fn();
    }
    this.#moveTo(end);
    for (let i = this.#pending.length - 1; i >= 0; i--)
      if (!this.#pending[i]!.live) this.#pending.splice(i, 1);
  }

  /** `advance`, then let promise callbacks queued by the timers run. */
  async tick(ms: number): Promise<void> {
    this.advance(ms);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  #arm(ms: number, every: number | null, fn: () => void): Timer {
    const p: Pending = { due: this.#mono + Math.max(0, ms), seq: this.#seq++, every, fn, live: true };
    this.#pending.push(p);
    return {
      cancel: () => {
        p.live = false;
      },
    };
  }

  #next(): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.#pending) {
      if (p.live && (!best || p.due < best.due || (p.due === best.due && p.seq < best.seq))) best = p;
    }
    return best;
  }

  #moveTo(mono: number): void {
    this.#wall += mono - this.#mono;
    this.#mono = mono;
  }
}
