/**
 * A worker's line to the other processes of its server (node:cluster IPC through the primary): broadcasts to its
 * peers, and gathers an answer from every worker. The app uses it for what spans processes: `/metrics` for the
 * whole server, and the softphone's live views of calls held by another worker.
 */
import type { ClusterMessage, GatheredMessage } from './messages.ts';
import { isClusterMessage, WORKER_SLOT_ENV } from './messages.ts';

/** How long a gather waits for the primary's answer before failing. */
const GATHER_TIMEOUT_MS = 5000;

export type Answerer = (data: unknown) => unknown;
export type Listener = (data: unknown) => void;

/** The process side of the channel: `process` in a worker, a test double otherwise. */
export interface Channel {
  send(message: ClusterMessage): void;
  on(event: 'message', listener: (message: unknown) => void): void;
}

export interface Gathered {
  answers: { worker: string; data: unknown }[];
  /** Workers that did not answer in time (starting, stopping, or their handler failed). */
  missing: string[];
}

export class WorkerLink {
  /** This worker's slot, 1..WORKERS; a replacement worker keeps its predecessor's. */
  readonly slot: number;
  readonly #channel: Channel;
  readonly #answerers = new Map<string, Answerer>();
  readonly #listeners = new Map<string, Listener>();
  readonly #pending = new Map<number, (gathered: GatheredMessage) => void>();
  readonly #gatherTimeoutMs: number;
  #nextId = 1;
  #onDrain: ((signal: string) => void) | null = null;
  #drainRequested: string | null = null;

  constructor(channel: Channel, slot: number, options: { gatherTimeoutMs?: number } = {}) {
    this.#channel = channel;
    this.slot = slot;
    this.#gatherTimeoutMs = options.gatherTimeoutMs ?? GATHER_TIMEOUT_MS;
    channel.on('message', (message) => {
      if (isClusterMessage(message)) void this.#receive(message);
    });
  }

  /** The link of this process when node:cluster forked it as a worker of `switchboard serve`; null otherwise. */
  static ofThisProcess(): WorkerLink | null {
    const slot = Number(process.env[WORKER_SLOT_ENV]);
    if (!process.send || !Number.isInteger(slot) || slot < 1) return null;
    const channel: Channel = {
      send: (message) => void process.send?.(message),
      on: (event, listener) => void process.on(event, listener),
    };
    return new WorkerLink(channel, slot);
  }

  /** Tell the primary this worker is listening; `banner` is printed once, by the primary. */
  ready(banner: string[]): void {
    this.#channel.send({ sb: 'ready', banner });
  }

  /** Deliver `data` under `topic` to every other worker's listener. */
  broadcast(topic: string, data: unknown): void {
    this.#channel.send({ sb: 'broadcast', topic, data });
  }

  /** Listen to other workers' broadcasts under `topic` (one listener per topic). */
  listen(topic: string, listener: Listener): void {
    this.#listeners.set(topic, listener);
  }

  /** Answer gathers under `topic` (one answerer per topic); it may return a promise. */
  answer(topic: string, answerer: Answerer): void {
    this.#answerers.set(topic, answerer);
  }

  /** Ask every worker, this one included, under `topic`. */
  gather(topic: string, data: unknown = null): Promise<Gathered> {
    const id = this.#nextId++;
    return new Promise<Gathered>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no answer from the server's primary process within ${this.#gatherTimeoutMs} ms`));
      }, this.#gatherTimeoutMs);
      this.#pending.set(id, (gathered) => {
        clearTimeout(timer);
        resolve({ answers: gathered.answers, missing: gathered.missing });
      });
      this.#channel.send({ sb: 'gather', id, topic, data });
    });
  }

  /**
   * What to do when the primary asks this worker to drain (it got SIGTERM or SIGINT); a request that came while
   * the worker was still starting is handed over at once.
   */
  onDrain(handler: (signal: string) => void): void {
    this.#onDrain = handler;
    if (this.#drainRequested !== null) handler(this.#drainRequested);
  }

  async #receive(message: ClusterMessage): Promise<void> {
    switch (message.sb) {
      case 'broadcast':
        this.#listeners.get(message.topic)?.(message.data);
        return;
      case 'ask': {
        const answerer = this.#answerers.get(message.topic);
        if (!answerer) {
          this.#channel.send({ sb: 'answer', id: message.id, data: null, error: 'no answerer' });
          return;
        }
        try {
          const data: unknown = await answerer(message.data);
          this.#channel.send({ sb: 'answer', id: message.id, data });
        } catch (err) {
          this.#channel.send({ sb: 'answer', id: message.id, data: null, error: (err as Error).message });
        }
        return;
      }
      case 'gathered': {
        const resolve = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        resolve?.(message);
        return;
      }
      case 'drain':
        this.#drainRequested = message.signal;
        this.#onDrain?.(message.signal);
        return;
      default:
        return;
    }
  }
}
