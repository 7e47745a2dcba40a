/**
 * The primary process of `switchboard serve` with WORKERS > 1 (node:cluster). It runs no calls: it forks one
 * worker per slot, each a whole server sharing the listening port, the journal store and the caches; relays the
 * workers' broadcasts and gathers; restarts a worker that dies (within a restart intensity, as the call
 * supervisor does), whose calls resume on the others through their journals as after a kill; and on SIGTERM or
 * SIGINT has every worker drain, then exits.
 *
 * The first worker starts alone, so it trains missing intent models into the shared cache and creates the
 * journal's tables; the others start from what it left. The banner is the first worker's, printed once every
 * worker listens.
 */
import cluster, { type Worker } from 'node:cluster';
import { RestartIntensity } from '../../restart-intensity.ts';
import type { Logger } from '../../observability/logger.ts';
import { Registry } from '../../observability/metrics.ts';
import { isClusterMessage, METRICS_TOPIC, WORKER_SLOT_ENV, type ClusterMessage } from './messages.ts';

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** Where the banner goes once every worker listens (the terminal). */
  print: (text: string) => void;
  /** Worker deaths tolerated within `restartWithinMs` before the server gives up (default 5 in 60 s). */
  maxRestarts?: number;
  restartWithinMs?: number;
  /** How long a gather waits for every worker's answer. */
  gatherTimeoutMs?: number;
  /** How long workers drain on SIGTERM (DRAIN_TIMEOUT_MS); one still running well after it is killed. */
  drainTimeoutMs: number;
}

/** How long past the drain window a worker may take to close its journal and sockets. */
const STUCK_AFTER_DRAIN_MS = 15_000;

interface Slot {
  worker: Worker;
  ready: boolean;
}

interface Gather {
  from: Worker;
  /** The id the requesting worker gave; the gather's key among all workers' is the map's. */
  requestId: number;
  waiting: Set<string>;
  answers: { worker: string; data: unknown }[];
  /** Workers whose handler failed. */
  failed: string[];
  timer: NodeJS.Timeout;
}

/** Run the primary until the server stops; resolves with the process's exit status. */
export async function runPrimary(options: PrimaryOptions): Promise<number> {
  return new Primary(options).run();
}

class Primary {
  readonly #opts: PrimaryOptions;
  readonly #log: Logger;
  readonly #slots = new Map<number, Slot>();
  readonly #gathers = new Map<string, Gather>();
  readonly #intensity: RestartIntensity;
  readonly #registry = new Registry();
  readonly #restarts = this.#registry.counter(
    'switchboard_worker_restarts_total',
    'Worker processes replaced after they died',
  );
  #nextGather = 1;
  #stopping = false;
  #exitCode = 0;
  #banner: string[] | null = null;
  /** Resolves when every worker has exited after a stop. */
  #allExited: () => void = () => {};

  constructor(opts: PrimaryOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ worker: 'primary' });
    this.#intensity = new RestartIntensity({
      max: opts.maxRestarts ?? 5,
      withinMs: opts.restartWithinMs ?? 60_000,
      now: () => performance.now(),
    });
    this.#registry.gauge('switchboard_workers', 'Worker processes serving calls').set(opts.workers);
  }

  async run(): Promise<number> {
    const exited = new Promise<void>((resolve) => (this.#allExited = resolve));
    cluster.on('message', (worker, message) => {
      if (isClusterMessage(message)) this.#receive(worker, message);
    });
    cluster.on('exit', (worker, code, signal) => this.#exited(worker, code, signal));
    process.once('SIGTERM', () => this.#stop('SIGTERM', 0));
    process.once('SIGINT', () => this.#stop('SIGINT', 0));

    // The first alone: it trains missing models and prepares the store for the rest.
    const first = await this.#start(1);
    if (first !== 'ready') return first;
    const rest = await Promise.all(
      Array.from({ length: this.#opts.workers - 1 }, (_, i) => this.#start(i + 2)),
    );
    const failed = rest.find((r) => r !== 'ready');
    if (failed !== undefined) {
      this.#stop('start-up failed', typeof failed === 'number' && failed !== 0 ? failed : 1);
    } else if (!this.#stopping) {
      const pids = [...this.#slots.values()].map((s) => s.worker.process.pid).join(', ');
      this.#opts.print(
        [
          ...(this.#banner ?? []),
          `  workers    : ${this.#opts.workers} processes (WORKERS), pids ${pids}; a worker that dies is replaced`,
        ].join('\n'),
      );
      this.#log.info('server started', { workers: this.#opts.workers });
    }
    await exited;
    return this.#exitCode;
  }

  /** Fork the worker of `slot`; resolves 'ready' once it listens, or its exit status if it exits first. */
  #start(slot: number): Promise<'ready' | number> {
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot) });
    this.#slots.set(slot, { worker, ready: false });
    return new Promise((resolve) => {
      const onMessage = (message: unknown): void => {
        if (isClusterMessage(message) && message.sb === 'ready') {
          worker.off('exit', onExit);
          resolve('ready');
        }
      };
      const onExit = (code: number | null): void => {
        worker.off('message', onMessage);
        resolve(code ?? 1);
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });
  }

  #slotOf(worker: Worker): number | null {
    for (const [slot, s] of this.#slots) if (s.worker === worker) return slot;
    return null;
  }

  #receive(from: Worker, message: ClusterMessage): void {
    const slot = this.#slotOf(from);
    if (slot === null) return;
    switch (message.sb) {
      case 'ready':
        this.#slots.get(slot)!.ready = true;
        if (slot === 1 && this.#banner === null) this.#banner = message.banner;
        return;
      case 'broadcast':
        for (const [other, s] of this.#slots) {
          if (other !== slot && s.ready) s.worker.send(message);
        }
        return;
      case 'gather':
        this.#gather(from, message.id, message.topic, message.data);
        return;
      case 'answer':
        this.#answered(String(slot), message.id, message.data, message.error);
        return;
      default:
        return;
    }
  }

  #gather(from: Worker, id: number, topic: string, data: unknown): void {
    const key = `${this.#nextGather++}`;
    const ready = [...this.#slots].filter(([, s]) => s.ready);
    const answers: Gather['answers'] =
      topic === METRICS_TOPIC ? [{ worker: 'primary', data: this.#registry.render() }] : [];
    const gather: Gather = {
      from,
      requestId: id,
      waiting: new Set(ready.map(([slot]) => String(slot))),
      answers,
      failed: [],
      timer: setTimeout(() => this.#finish(key), this.#opts.gatherTimeoutMs ?? 2000),
    };
    this.#gathers.set(key, gather);
    for (const [, s] of ready) s.worker.send({ sb: 'ask', id: Number(key), topic, data });
    if (gather.waiting.size === 0) this.#finish(key);
  }

  #answered(worker: string, key: number, data: unknown, error: string | undefined): void {
    const gather = this.#gathers.get(String(key));
    if (!gather || !gather.waiting.delete(worker)) return;
    if (error === undefined) gather.answers.push({ worker, data });
    else gather.failed.push(worker);
    if (gather.waiting.size === 0) this.#finish(String(key));
  }

  #finish(key: string): void {
    const gather = this.#gathers.get(key);
    if (!gather) return;
    this.#gathers.delete(key);
    clearTimeout(gather.timer);
    const missing = [...gather.waiting, ...gather.failed];
    if (gather.from.isConnected()) {
      gather.from.send({ sb: 'gathered', id: gather.requestId, answers: gather.answers, missing });
    }
  }

  #exited(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.#slotOf(worker);
    if (slot === null) return;
    this.#slots.delete(slot);
    // Gathers waiting on it finish without it.
    for (const [key, gather] of this.#gathers) {
      if (gather.waiting.delete(String(slot)) && gather.waiting.size === 0) {
        this.#finish(key);
      }
    }
    if (this.#stopping) {
      if (this.#slots.size === 0) this.#allExited();
      return;
    }
    if (this.#banner === null) return; // still starting: run() reports it
    this.#log.error('worker died; its calls resume on the other workers from their journals', {
      slot,
      pid: worker.process.pid,
      exitCode: code,
      signal,
    });
    if (this.#intensity.exhausted()) {
      this.#log.error('workers keep dying; stopping the server', {
        restarts: this.#intensity.recent(),
        withinMs: this.#intensity.withinMs,
      });
      this.#stop('restart intensity', 1);
      return;
    }
    this.#intensity.record();
    this.#restarts.inc();
    void this.#start(slot).then((started) => {
      if (started === 'ready')
        this.#log.info('worker replaced', { slot, pid: this.#slots.get(slot)?.worker.process.pid });
    });
  }

  /** Have every worker drain and exit; `exitCode` is the primary's status once they have. */
  #stop(signal: string, exitCode: number): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#exitCode = exitCode;
    this.#log.info('stopping workers', { signal, workers: this.#slots.size });
    if (this.#slots.size === 0) {
      this.#allExited();
      return;
    }
    for (const { worker } of this.#slots.values()) {
      if (worker.isConnected()) worker.send({ sb: 'drain', signal });
      else worker.kill();
    }
    // A worker that has not exited well after its drain window is stuck: it must not keep the server up.
    setTimeout(() => {
      for (const [slot, { worker }] of this.#slots) {
        this.#log.error('worker did not exit after draining; killing it', { slot, pid: worker.process.pid });
        worker.process.kill('SIGKILL');
      }
    }, this.#opts.drainTimeoutMs + STUCK_AFTER_DRAIN_MS).unref();
  }
}
