/**
 * Runs a campaign: one call per row of a CSV file, placed through a server's calls API at a start rate and with
 * at most `concurrency` calls in progress, retried on busy, no answer and failure with a growing wait, never in
 * the callee's quiet hours. Rows are read as capacity frees up, so memory stays bounded whatever the file's size
 * (only rows waiting for a retry are held).
 *
 * Its state is the dials' journals on the server, keyed by row and attempt (row-outcome.ts): a runner killed at
 * any point, or whose server was, and started again on the same file walks them alongside the file and goes on
 * where they stand, dialing no number twice. Counts are journaled every few seconds with the campaign, whose
 * cancellation the runner reads back then.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiRefusal, type ApiClient, type DialView } from './api-client.ts';
import { readCsvRows } from './csv-rows.ts';
import { isQuiet, type QuietHours } from './quiet-hours.ts';
import { StartPacer } from './rate.ts';
import { attemptKey, parseAttemptKey, rowNext, type Outcome, type RetryPolicy } from './row-outcome.ts';
import { dialColumns, rowToDial, type ColumnNames, type DialColumns } from './row-request.ts';

/** How often calls in progress are asked after, and counts written. */
export const POLL_MS = 500;
export const PROGRESS_MS = 3000;
const ROW_REFUSALS = new Set(['DIAL_INVALID', 'DIAL_KEY_REUSED', 'TWILIO_REST_FAILED']);

export interface CampaignOptions extends RetryPolicy {
  client: ApiClient;
  /** The campaign's id: its dials are keyed `<id>.<row>.<attempt>`. */
  id: string;
  file: string;
  /** The file's name as journaled with the campaign. */
  fileName: string;
  flow: string;
  /** Caller id; the server's TWILIO_CALLER_ID without it. */
  from?: string;
  perSecond: number;
  concurrency: number;
  quiet: QuietHours | null;
  /** The callee's zone when the row names none. */
  timeZone: string;
  columns?: ColumnNames;
  signal?: AbortSignal;
  /** Each row's outcome, once, as it is reached. */
  onOutcome?: (row: RowResult) => void;
  /** A row that cannot be dialed: bad, or refused by the server. */
  onRowError?: (line: number, message: string) => void;
  onProgress?: (progress: CampaignProgress) => void;
  now?: () => number;
}

export interface RowResult {
  line: number;
  to: string | null;
  outcome: Outcome | 'cancelled';
  attempts: number;
  callSid: string | null;
  answeredBy: string | null;
  status: string | null;
  reason?: string;
}

export interface CampaignProgress {
  rows: number;
  counts: Record<Outcome, number>;
  inProgress: number;
  waitingRetry: number;
  started: number;
  cancelled: boolean;
}

interface Job {
  line: number;
  to: string;
  vars: Record<string, string>;
  timeZone: string;
  attempt: number;
  notBefore: number;
}

export class CampaignRunner {
  readonly #o: CampaignOptions;
  readonly #now: () => number;
  readonly #pacer: StartPacer;
  readonly #active = new Map<string, Job>();
  /** Rows waiting to be dialed again, soonest first. */
  readonly #retries: Job[] = [];
  readonly #counts: Record<Outcome, number> = { human: 0, voicemail: 0, no_answer: 0, failed: 0, skipped: 0 };
  #rows = 0;
  #started = 0;
  #cancelled = false;
  #columns: DialColumns | null = null;
  #listing: DialCursor;

  constructor(options: CampaignOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#pacer = new StartPacer(options.perSecond);
    this.#listing = new DialCursor(options.client, options.id);
  }

  /** Run to the end (or until cancelled or interrupted); resolves with the counts. */
  async run(): Promise<CampaignProgress> {
    const { client, id, flow, fileName, signal } = this.#o;
    const campaign = await client.beginCampaign(id, flow, fileName);
    this.#cancelled = campaign.cancelled;
    const rows = readCsvRows(this.#o.file, signal ? { signal } : {})[Symbol.asyncIterator]();
    let rowsLeft = !this.#cancelled;
    let polled = 0;
    let reported = 0;
    while (!signal?.aborted) {
      const now = performance.now();
      if (now - polled >= POLL_MS) {
        polled = now;
        await this.#poll();
      }
      if (now - reported >= PROGRESS_MS) {
        reported = now;
        await this.#report(false);
      }
      if (this.#cancelled) break;
      let job: Job | null = null;
      if (this.#active.size < this.#o.concurrency) {
        job = this.#dueRetry();
        while (job === null && rowsLeft) {
          const next = await rows.next();
          if (next.done) rowsLeft = false;
          else job = await this.#take(next.value);
        }
      }
      // A row in its callee's quiet hours is skipped at once: it takes no turn of the start rate.
      if (job !== null && isQuiet(this.#o.quiet, new Date(this.#now()), job.timeZone)) {
        this.#skip(job.line, job.to, "quiet hours in the callee's time zone", job.attempt - 1);
        continue;
      }
      if (job !== null) {
        await sleep(this.#pacer.delayMs(), undefined, signal ? { signal } : {}).catch(() => {});
        if (signal?.aborted) break;
        this.#pacer.take();
        await this.#dial(job);
        continue;
      }
      if (!rowsLeft && this.#active.size === 0 && this.#retries.length === 0) break;
      const untilRetry = this.#retries[0] ? Math.max(0, this.#retries[0].notBefore - this.#now()) : POLL_MS;
      await sleep(
        Math.min(POLL_MS - (performance.now() - polled), untilRetry, POLL_MS) + 5,
        undefined,
        signal ? { signal } : {},
      ).catch(() => {});
    }
    if (this.#cancelled) this.#cancelRest();
    const finished = !signal?.aborted && !this.#cancelled;
    await this.#report(finished);
    return this.progress();
  }

  progress(): CampaignProgress {
    return {
      rows: this.#rows,
      counts: { ...this.#counts },
      inProgress: this.#active.size,
      waitingRetry: this.#retries.length,
      started: this.#started,
      cancelled: this.#cancelled,
    };
  }

  /** A row of the file: counted when it is done, else the job of dialing it (or of waiting for its call). */
  async #take(
    row: { line: number; fields: Record<string, string> } | { line: number; error: string },
  ): Promise<Job | null> {
    this.#rows += 1;
    const dials = await this.#listing.forLine(row.line);
    if ('error' in row) return this.#skip(row.line, null, row.error);
    this.#columns ??= dialColumns(Object.keys(row.fields), this.#o.columns);
    const dial = rowToDial(row.fields, this.#columns);
    if ('error' in dial) return this.#skip(row.line, null, dial.error);
    const job = { line: row.line, to: dial.to, vars: dial.vars, timeZone: dial.timezone ?? this.#o.timeZone };
    return this.#decide({ ...job, attempt: 0, notBefore: 0 }, dials.at(-1), dials.length);
  }

  /** What the row's dials say: done, in progress (watched), or to dial, now or later. */
  #decide(job: Job, last: DialView | undefined, attempts: number): Job | null {
    const next = rowNext(last, attempts, this.#o);
    if (next.kind === 'done') {
      this.#done(job, next.outcome, next.attempts, next.last);
      return null;
    }
    if (next.kind === 'wait') {
      this.#active.set(next.key, { ...job, attempt: next.attempt });
      return null;
    }
    const retry = { ...job, attempt: next.attempt, notBefore: next.notBefore };
    if (next.notBefore <= this.#now()) return retry;
    this.#retries.push(retry);
    this.#retries.sort((a, b) => a.notBefore - b.notBefore);
    return null;
  }

  #dueRetry(): Job | null {
    const first = this.#retries[0];
    if (first === undefined || first.notBefore > this.#now()) return null;
    return this.#retries.shift()!;
  }

  async #dial(job: Job): Promise<void> {
    const key = attemptKey(this.#o.id, job.line, job.attempt);
    try {
      await this.#o.client.dial({
        to: job.to,
        flow: this.#o.flow,
        vars: job.vars,
        idempotencyKey: key,
        ...(this.#o.from === undefined ? {} : { from: this.#o.from }),
      });
      this.#started += 1;
      this.#active.set(key, job);
    } catch (err) {
      // What is wrong with the row (its number, its variables, its key) skips it; anything else (an unknown flow,
      // a wrong API key) stops the campaign, to be run again once put right.
      if (!(err instanceof ApiRefusal) || !ROW_REFUSALS.has(err.code)) throw err;
      if (err.code === 'TWILIO_REST_FAILED') {
        // Twilio refused the number (journaled with its dial): the row has failed.
        this.#o.onRowError?.(job.line, err.message);
        this.#done(job, 'failed', job.attempt, null);
      } else this.#skip(job.line, job.to, err.message, job.attempt - 1);
    }
  }

  /** Ask after each call in progress; one that has ended decides its row. */
  async #poll(): Promise<void> {
    for (const [key, job] of [...this.#active]) {
      const dial = await this.#o.client.dialState(key);
      if (dial.endedAt === null) continue;
      this.#active.delete(key);
      const next = this.#decide(job, dial, job.attempt);
      // A retry due already goes first.
      if (next !== null) this.#retries.unshift(next);
    }
  }

  async #report(done: boolean): Promise<void> {
    const campaign = await this.#o.client.progress(this.#o.id, { ...this.#counts, rows: this.#rows }, done);
    this.#cancelled ||= campaign.cancelled;
    this.#o.onProgress?.(this.progress());
  }

  #skip(line: number, to: string | null, reason: string, attempts = 0): null {
    this.#o.onRowError?.(line, reason);
    this.#counts.skipped += 1;
    this.#o.onOutcome?.({
      line,
      to,
      outcome: 'skipped',
      attempts,
      callSid: null,
      answeredBy: null,
      status: null,
      reason,
    });
    return null;
  }

  #done(job: Job, outcome: Outcome, attempts: number, last: DialView | null): void {
    this.#counts[outcome] += 1;
    this.#o.onOutcome?.({
      line: job.line,
      to: job.to,
      outcome,
      attempts,
      callSid: last?.callSid ?? null,
      answeredBy: last?.answeredBy ?? null,
      status: last?.status ?? null,
    });
  }

  /** Cancelled: rows waiting for a retry are not dialed again; calls in progress go on at Twilio. */
  #cancelRest(): void {
    for (const job of this.#retries.splice(0)) {
      this.#o.onOutcome?.({
        line: job.line,
        to: job.to,
        outcome: 'cancelled',
        attempts: job.attempt - 1,
        callSid: null,
        answeredBy: null,
        status: null,
      });
    }
  }
}

/** The campaign's dials in key order (which is row order), a page at a time, read as the file is. */
class DialCursor {
  readonly #client: ApiClient;
  readonly #id: string;
  #page: DialView[] = [];
  #next: string | null = null;
  #first = true;

  constructor(client: ApiClient, id: string) {
    this.#client = client;
    this.#id = id;
  }

  /** The dials of file line `line`, in attempt order; lines must be asked for in increasing order. */
  async forLine(line: number): Promise<DialView[]> {
    const out: DialView[] = [];
    for (;;) {
      while (this.#page.length > 0) {
        const at = parseAttemptKey(this.#id, this.#page[0]!.key);
        if (at !== null && at.line > line) return out;
        const dial = this.#page.shift()!;
        if (at?.line === line) out.push(dial);
      }
      if (!this.#first && this.#next === null) return out;
      const page = await this.#client.listDials(`${this.#id}.`, this.#first ? null : this.#next);
      this.#first = false;
      this.#page = page.dials;
      this.#next = page.next;
      if (this.#page.length === 0) return out;
    }
  }
}
