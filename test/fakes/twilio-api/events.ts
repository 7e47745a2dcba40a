/**
 * Everything the fake saw and did, in order (requests, webhooks sent, status changes, TwiML, failed steps, held
 * creates), and waiting for the first event that matches: tests wait on events, never on sleeps.
 */
import type { FakeTwilioEvent } from './types.ts';

interface Waiter {
  predicate: (event: FakeTwilioEvent) => boolean;
  resolve: (event: FakeTwilioEvent) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class EventLog {
  readonly events: FakeTwilioEvent[] = [];
  readonly #waiters = new Set<Waiter>();

  emit(event: FakeTwilioEvent): void {
    this.events.push(event);
    for (const waiter of this.#waiters) {
      if (!waiter.predicate(event)) continue;
      clearTimeout(waiter.timer);
      this.#waiters.delete(waiter);
      waiter.resolve(event);
    }
  }

  /** The first event, already seen or still to come, that matches; rejects after `timeoutMs`. */
  waitFor(predicate: (event: FakeTwilioEvent) => boolean, timeoutMs: number): Promise<FakeTwilioEvent> {
    const seen = this.events.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new Error(`FakeTwilioApiServer: no matching event within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Fails every pending waitFor(). */
  close(): void {
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('FakeTwilioApiServer closed'));
    }
    this.#waiters.clear();
  }
}
