/**
 * Whether this instance can reach its journal store, for `/readyz`. Every second it reads one summary (a single
 * indexed lookup), one read at a time; a read that fails, or has not answered within two seconds, is a miss.
 * Two misses in a row make the store unreachable until a read answers again. An instance that cannot journal
 * cannot take a call or resume one, so while its store is unreachable it answers `/readyz` with 503 and a
 * proxy sends new calls and the resumes of its calls to an instance that can.
 */
import { systemClock, type Clock, type Timer } from '../clock.ts';
import type { JournalStore } from '../journal/store.ts';
import type { Logger } from '../observability/logger.ts';

const INTERVAL_MS = 1000;
const ANSWER_WITHIN_MS = 2000;
const MISSES = 2;
/** A call id no call has: the read finds nothing, which is all it needs to learn. */
const PROBE_ID = 'readiness-probe';

export interface StoreWatchOptions {
  store: JournalStore;
  logger: Logger;
  clock?: Clock;
}

export class StoreWatch {
  readonly #opts: StoreWatchOptions;
  readonly #clock: Clock;
  readonly #timer: Timer;
  #reachable = true;
  #misses = 0;
  /** When the read in flight began (monotonic ms), or null when none is. */
  #readingSince: number | null = null;

  constructor(opts: StoreWatchOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#timer = this.#clock.every(INTERVAL_MS, () => this.#tick());
  }

  /** False from the second miss in a row until a read answers. */
  get reachable(): boolean {
    return this.#reachable;
  }

  stop(): void {
    this.#timer.cancel();
  }

  #tick(): void {
    const now = this.#clock.monotonic();
    if (this.#readingSince !== null) {
      // A read that hangs (a paused or cut-off database) is a miss each tick it goes on past its time.
      if (now - this.#readingSince >= ANSWER_WITHIN_MS) this.#miss();
      return;
    }
    this.#readingSince = now;
    this.#opts.store.summary(PROBE_ID).then(
      () => {
        this.#readingSince = null;
        this.#misses = 0;
        if (this.#reachable) return;
        this.#reachable = true;
        this.#opts.logger.info('journal store reachable again; ready');
      },
      (err: unknown) => {
        this.#readingSince = null;
        this.#miss(err);
      },
    );
  }

  #miss(err?: unknown): void {
    this.#misses += 1;
    if (this.#misses < MISSES || !this.#reachable) return;
    this.#reachable = false;
    this.#opts.logger.warn('journal store unreachable; not ready until it answers', {
      code: 'STORE_UNAVAILABLE',
      ...(err === undefined ? {} : { err }),
    });
  }
}
