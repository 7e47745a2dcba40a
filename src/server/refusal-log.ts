/**
 * The log of what the edge refuses, kept small under a flood: in each window the first few refusals of a source
 * are logged one by one (and no more than PER_WINDOW lines in all), the rest are counted and reported once at the
 * window's end with how many sources they came from. A source address is personal data: it goes under `pii` only.
 *
 * The same allowance holds every line a connection that has not proved itself causes (a request that cannot be
 * parsed or is refused, an upgrade refused, a stream rejected before it attached to a call): `gate(source)` lets
 * them through a logger (Logger.gated) and counts the rest by their `code`.
 */
import type { Clock, Timer } from '../clock.ts';
import type { ErrorCode } from '../errors.ts';
import type { LogGate, Logger, LogRecord } from '../observability/logger.ts';

/** What the edge refuses with: too many connections from one source, its requests too fast, the process full. */
export type EdgeRefusal = Extract<
  ErrorCode,
  'HTTP_TOO_MANY_CONNECTIONS' | 'HTTP_RATE_LIMITED' | 'HTTP_SERVER_FULL'
>;

const MESSAGES: Record<EdgeRefusal, string> = {
  HTTP_TOO_MANY_CONNECTIONS: 'connection refused: too many from one source',
  HTTP_RATE_LIMITED: 'request refused: too many unauthenticated requests from one source',
  HTTP_SERVER_FULL: 'connection dropped: the server is at its connection limit',
};

export const REFUSAL_WINDOW_MS = 10_000;
/** Refusals of one source logged one by one in a window. */
export const FIRST_PER_SOURCE = 3;
/** Refusals logged one by one in a window, all sources together. */
export const PER_WINDOW = 20;
/** Distinct sources counted in a window's report; past it the report says "at least". */
const MAX_SOURCES_COUNTED = 10_000;

export class RefusalLog {
  readonly #log: Logger;
  readonly #timer: Timer;
  /** Lines logged this window, by source. */
  readonly #logged = new Map<string, number>();
  #lines = 0;
  /** Refusals not logged one by one this window, by code, and the sources they came from. */
  readonly #quiet = new Map<string, number>();
  readonly #quietSources = new Set<string>();

  constructor(logger: Logger, clock: Clock) {
    this.#log = logger;
    this.#timer = clock.every(REFUSAL_WINDOW_MS, () => this.flush());
  }

  /** One refusal of `source` (its address or /64; null when unknown). */
  refused(code: EdgeRefusal, source: string | null): void {
    if (this.#admit(code, source)) this.#log.warn(MESSAGES[code], { code, pii: { source } });
  }

  /** Lets a line about `source` through while its allowance lasts, else counts it by its code (or message). */
  gate(source: string | null): LogGate {
    return (record: LogRecord) =>
      this.#admit(typeof record.code === 'string' ? record.code : record.msg, source);
  }

  #admit(code: string, source: string | null): boolean {
    const key = source ?? '';
    const logged = this.#logged.get(key) ?? 0;
    if (logged < FIRST_PER_SOURCE && this.#lines < PER_WINDOW) {
      this.#logged.set(key, logged + 1);
      this.#lines += 1;
      return true;
    }
    this.#quiet.set(code, (this.#quiet.get(code) ?? 0) + 1);
    if (this.#quietSources.size < MAX_SOURCES_COUNTED) this.#quietSources.add(key);
    return false;
  }

  /** End the window: report what was not logged one by one, and start afresh. */
  flush(): void {
    if (this.#quiet.size > 0) {
      const sources = this.#quietSources.size;
      this.#log.warn('more refusals at the edge, counted', {
        refused: Object.fromEntries(this.#quiet),
        sources: sources >= MAX_SOURCES_COUNTED ? `at least ${sources}` : sources,
        windowMs: REFUSAL_WINDOW_MS,
      });
    }
    this.#logged.clear();
    this.#lines = 0;
    this.#quiet.clear();
    this.#quietSources.clear();
  }

  stop(): void {
    this.#timer.cancel();
    this.flush();
  }
}
