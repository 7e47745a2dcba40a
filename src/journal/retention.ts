/**
 * Retention: journals of ended calls are deleted once they are older than JOURNAL_RETENTION_DAYS, in the
 * background, a batch at a time. An open call is never purged (the store's `erase` refuses one), however old:
 * a call that still has no `end` record may yet be resumed.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { JournalStore } from './store.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How often the sweep runs; the first runs one minute after start-up, off the start-up path. */
const SWEEP_EVERY_MS = 60 * 60 * 1000;
const FIRST_SWEEP_MS = 60 * 1000;
const BATCH = 200;

export interface Purged {
  calls: number;
  records: number;
}

/** Delete every ended call whose last record is older than `before` (ms since the epoch). */
export async function purgeEnded(store: JournalStore, before: number): Promise<Purged> {
  const purged: Purged = { calls: 0, records: 0 };
  for (;;) {
    const ids = await store.endedBefore(before, BATCH);
    let erased = 0;
    for (const id of ids) {
      const records = await store.erase(id);
      if (records === null) continue;
      erased++;
      purged.calls++;
      purged.records += records;
    }
    // A short batch is the last; one where nothing could be erased (all reopened meanwhile) ends it too.
    if (ids.length < BATCH || erased === 0) return purged;
  }
}

export interface RetentionOptions {
  store: JournalStore;
  days: number;
  clock: Clock;
  logger: Logger;
}

/** Runs purgeEnded every hour while started; one sweep at a time, failures logged and retried next hour. */
export class RetentionSweeper {
  readonly #opts: RetentionOptions;
  #timers: { cancel(): void }[] = [];
  #running: Promise<void> | null = null;

  constructor(opts: RetentionOptions) {
    this.#opts = opts;
  }

  start(): void {
    const { clock } = this.#opts;
    this.#timers = [
      clock.after(FIRST_SWEEP_MS, () => void this.sweep()),
      clock.every(SWEEP_EVERY_MS, () => void this.sweep()),
    ];
  }

  /** One sweep now (or the one already running); never rejects. */
  sweep(): Promise<void> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) t.cancel();
    this.#timers = [];
    await this.#running;
  }

  async #sweep(): Promise<void> {
    const { store, days, clock, logger } = this.#opts;
    try {
      const purged = await purgeEnded(store, clock.now() - days * DAY_MS);
      if (purged.calls > 0) logger.info('ended calls purged', { retentionDays: days, ...purged });
    } catch (err) {
      logger.warn('ended calls could not be purged; trying again later', { retentionDays: days, err });
    }
  }
}
