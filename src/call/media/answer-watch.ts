/**
 * Who answered a call this server placed, as answering-machine detection reports it: the detection callback can
 * reach any instance (or worker) while the call's stream is held by another, so it is journaled with the dial
 * (outbound/dial-journal.ts) and the instance running the call reads it from there. Read once when the call
 * starts or resumes, then every POLL_MS until it is known, the call ends, or WATCH_MS have passed (detection
 * gives up well before). Who answered is delivered to the call's machine once, as an `answered` event.
 */
import type { AnsweredBy } from '../../flow/index.ts';
import type { JournalStore } from '../../journal/store.ts';
import type { Logger } from '../../observability/logger.ts';
import { readDial } from '../../outbound/dial-journal.ts';

export const POLL_MS = 500;
export const WATCH_MS = 120_000;

export interface AnswerWatchOptions {
  store: JournalStore;
  /** The dial's idempotency key. */
  dial: string;
  logger: Logger;
  answered: (answeredBy: AnsweredBy) => void;
  pollMs?: number;
  watchMs?: number;
}

export class AnswerWatch {
  readonly #opts: AnswerWatchOptions;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #deadline = 0;

  constructor(opts: AnswerWatchOptions) {
    this.#opts = opts;
  }

  /** Start watching; the first read is now. */
  start(): void {
    this.#deadline = performance.now() + (this.#opts.watchMs ?? WATCH_MS);
    void this.#check();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #check(): Promise<void> {
    this.#timer = null;
    if (this.#stopped) return;
    try {
      const dial = await readDial(this.#opts.store, this.#opts.dial);
      if (this.#stopped) return;
      if (dial?.answeredBy) {
        this.#stopped = true;
        this.#opts.answered(dial.answeredBy);
        return;
      }
      if (dial === null || dial.endedAt !== null) return void this.stop();
    } catch (err) {
      // The store may be back on the next read; the call goes on meanwhile.
      this.#opts.logger.warn('who answered could not be read', { dial: this.#opts.dial, err });
    }
    if (performance.now() >= this.#deadline) return void this.stop();
    this.#timer = setTimeout(() => void this.#check(), this.#opts.pollMs ?? POLL_MS);
    this.#timer.unref();
  }
}
