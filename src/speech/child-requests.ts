/**
 * Request/response over a ChildPool (child-pool.ts) whose children work on one request at a time: requests wait
 * in a bounded queue, first come first served, go to an idle ready child, and children are started on demand up
 * to the pool's size. A request refused for a full queue, or that waited past `maxWaitMs` without reaching a
 * child, is rejected and counted (`shed`): the children are behind, and a late answer is worth less than none. A crash fails the request its child was running; queued ones go to a replacement unless
 * the restart intensity is reached and no child is left, which fails the queue. An aborted request rejects at
 * once; if a child is already on it, it runs to the end and its answer is dropped. Idle children do not keep
 * the process alive.
 */
import { systemClock, type Clock, type Timer } from '../clock.ts';
import { isSwitchboardError, type SwitchboardError } from '../errors.ts';
import { abortReason } from './abort.ts';
import { ChildPool, type ChildEnd, type ChildPoolOptions, type PoolChild } from './child-pool.ts';

/** An answer from a child to the request with its `id`. */
export type ChildAnswer<Result> = { id: number; result: Result } | { id: number; error: SwitchboardError };

export interface ChildRequestsOptions<Payload, Out extends { type: string }, Result> extends Omit<
  ChildPoolOptions<Out>,
  'onMessage' | 'onCrash' | 'closedError'
> {
  /** Requests waiting for a child beyond this are refused with `queueFull`. */
  maxPending: number;
  queueFull: (pending: number) => SwitchboardError;
  /** A request still waiting for a child after this long is refused with `waitedTooLong`; no limit unless given. */
  maxWaitMs?: number;
  waitedTooLong?: (waitedMs: number) => SwitchboardError;
  /** Refuses work once closed, and fails the work pending then. */
  closedError: () => SwitchboardError;
  /** Wraps a fork that throws. */
  startError: (err: unknown) => SwitchboardError;
  /** The message sent to a child for a request. */
  message: (id: number, payload: Payload) => unknown;
  /** The answer a child's message carries, or null when it is none (a 'ready'). */
  answer: (message: Out) => ChildAnswer<Result> | null;
}

interface Job<Payload, Result> {
  readonly id: number;
  readonly payload: Payload;
  readonly resolve: (result: Result) => void;
  readonly reject: (err: unknown) => void;
  detach: () => void;
  settled: boolean;
  /** Refuses the job if it is still queued when it fires. */
  timer: Timer | undefined;
}

/** Requests refused because the children were behind, since the pool was made. */
export interface ShedCounts {
  queueFull: number;
  waitedTooLong: number;
}

export class ChildRequests<Payload, Out extends { type: string }, Result> {
  readonly #options: ChildRequestsOptions<Payload, Out, Result>;
  readonly #pool: ChildPool<Out>;
  readonly #queue: Job<Payload, Result>[] = [];
  readonly #running = new Map<PoolChild, Job<Payload, Result>>();
  readonly #clock: Clock;
  readonly #shed: ShedCounts = { queueFull: 0, waitedTooLong: 0 };
  #nextId = 1;

  constructor(options: ChildRequestsOptions<Payload, Out, Result>) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#pool = new ChildPool<Out>({
      ...options,
      onMessage: (child, message) => this.#onMessage(child, message),
      onCrash: (child, end) => this.#onCrash(child, end),
    });
  }

  get pool(): ChildPool<Out> {
    return this.#pool;
  }

  /** Requests refused because the queue was full or they waited too long, since the pool was made. */
  get shed(): ShedCounts {
    return { ...this.#shed };
  }

  /** Requests waiting for a child. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Starts every child now and waits until each is ready. */
  async warmUp(): Promise<void> {
    if (this.#pool.closed) throw this.#options.closedError();
    try {
      while (this.#pool.children.length < this.#pool.size) this.#pool.start();
    } catch (err) {
      throw this.#options.startError(err);
    }
    await Promise.all(this.#pool.children.map((child) => child.ready));
  }

  /** Queues one request; rejects with the child's error, abortReason(signal), queueFull or closedError. */
  request(payload: Payload, signal?: AbortSignal): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      if (this.#pool.closed) return reject(this.#options.closedError());
      if (signal?.aborted) return reject(abortReason(signal));
      if (this.#queue.length >= this.#options.maxPending) {
        this.#shed.queueFull++;
        return reject(this.#options.queueFull(this.#queue.length));
      }
      const job: Job<Payload, Result> = {
        id: this.#nextId++,
        payload,
        resolve,
        reject,
        detach: noop,
        settled: false,
        timer: undefined,
      };
      if (signal) {
        const onAbort = (): void => this.#abort(job, signal);
        signal.addEventListener('abort', onAbort, { once: true });
        job.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.#queue.push(job);
      this.#pump();
      const { maxWaitMs, waitedTooLong } = this.#options;
      if (maxWaitMs !== undefined && waitedTooLong && !job.settled && this.#queue.includes(job)) {
        job.timer = this.#clock.after(maxWaitMs, () => this.#expire(job, maxWaitMs, waitedTooLong));
      }
    });
  }

  /** Rejects everything pending and ends the children; resolves once they are gone. */
  async close(): Promise<void> {
    const closing = this.#pool.close();
    const err = this.#options.closedError();
    for (const job of this.#queue.splice(0)) settle(job, () => job.reject(err));
    for (const job of this.#running.values()) settle(job, () => job.reject(err));
    this.#running.clear();
    await closing;
  }

  /** Still queued after maxWaitMs: refused, so the caller goes on without this answer. */
  #expire(job: Job<Payload, Result>, waitedMs: number, error: (ms: number) => SwitchboardError): void {
    const queued = this.#queue.indexOf(job);
    if (queued < 0) return;
    this.#queue.splice(queued, 1);
    this.#shed.waitedTooLong++;
    settle(job, () => job.reject(error(waitedMs)));
  }

  #abort(job: Job<Payload, Result>, signal: AbortSignal): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) this.#queue.splice(queued, 1);
    settle(job, () => job.reject(abortReason(signal)));
  }

  /** Hands queued jobs to idle children, then starts children (up to the pool size) for what is left. */
  #pump(): void {
    const pool = this.#pool;
    if (pool.closed) return;
    for (const child of pool.children) {
      if (this.#queue.length === 0) return;
      if (child.isReady && !this.#running.has(child)) this.#dispatch(child, this.#queue.shift()!);
    }
    let starting = pool.children.filter((child) => !child.isReady).length;
    while (this.#queue.length > starting && pool.children.length < pool.size) {
      try {
        pool.start();
      } catch (err) {
        // Children still alive keep serving the queue; with none, it fails.
        if (pool.children.length === 0) {
          // The pool's own refusals (closed, restart intensity) are typed already; a fork's failure is not.
          const typed = isSwitchboardError(err) ? err : this.#options.startError(err);
          for (const job of this.#queue.splice(0)) settle(job, () => job.reject(typed));
        }
        return;
      }
      starting++;
    }
  }

  #dispatch(child: PoolChild, job: Job<Payload, Result>): void {
    job.timer?.cancel();
    this.#running.set(child, job);
    child.hold(true);
    child.send(this.#options.message(job.id, job.payload));
  }

  #onMessage(child: PoolChild, message: Out): void {
    const answer = this.#options.answer(message);
    if (answer === null) {
      // Ready, or another word that is no answer: an idle child must not keep the process alive.
      if (!this.#running.has(child)) child.hold(false);
      this.#pump();
      return;
    }
    const job = this.#running.get(child);
    if (!job || job.id !== answer.id) return;
    this.#running.delete(child);
    child.hold(false);
    if ('result' in answer) settle(job, () => job.resolve(answer.result));
    else settle(job, () => job.reject(answer.error));
    this.#pump();
  }

  #onCrash(child: PoolChild, end: ChildEnd): void {
    const job = this.#running.get(child);
    this.#running.delete(child);
    if (job) settle(job, () => job.reject(this.#options.endError(end)));
    // Queued jobs are not lost: they go to a replacement, unless children keep crashing (see #pump).
    this.#pump();
  }
}

function settle<P, R>(job: Job<P, R>, act: () => void): void {
  if (job.settled) return;
  job.settled = true;
  job.timer?.cancel();
  job.detach();
  act();
}

function noop(): void {}
