/**
 * The embedded journal store: one SQLite file (better-sqlite3), WAL with synchronous=FULL so an acknowledged
 * append survives power loss, and a busy timeout so two server processes can share the file. better-sqlite3 is
 * synchronous and an fsync takes milliseconds, which the audio path (a frame every 20 ms per call) cannot give
 * up, so the connection lives in a worker thread (sqlite.worker.ts) that also commits concurrent appends
 * together; this class only forwards requests to it.
 */
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, SwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { CallSummary, JournalStore, Lease, LineRewrite, StoredRecord } from './store.ts';
import {
  MIGRATIONS,
  WORKER_DATA,
  type Op,
  type Opened,
  type Request,
  type Response,
  type WireError,
} from './sqlite.worker.ts';

export interface SqliteStoreOptions {
  logger: Logger;
}

/** The schema version this build creates and reads. */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class SqliteStore implements JournalStore {
  readonly kind = 'sqlite';
  readonly location: string;
  readonly #logger: Logger;
  #worker: Worker | null = null;
  #pending = new Map<number, Pending>();
  /** Requests of this turn of the event loop, posted together at its end. */
  readonly #outbox: Request[] = [];
  #nextId = 1;
  /** Why the worker can no longer be used (it exited without being closed), or null while it can. */
  #dead: SwitchboardError | null = null;
  #closing: Promise<void> | null = null;
  /** Set while this class itself ends the worker: that exit is not a death. */
  #stopping = false;

  /** `path` is relative to the working directory; `:memory:` gives a private in-memory database. */
  constructor(path: string, options: SqliteStoreOptions) {
    this.location = path === ':memory:' ? path : resolve(path);
    this.#logger = options.logger;
  }

  async open(): Promise<void> {
    if (this.#worker) return;
    const worker = startWorker();
    this.#worker = worker;
    worker.on('message', (responses: Response[]) => {
      for (const response of responses) this.#settle(response);
    });
    // An uncaught exception in the worker is followed by 'exit'; it is reported there.
    worker.on('error', (err) => {
      this.#logger.error('journal store worker failed', { store: 'sqlite', error: err.message });
    });
    worker.on('exit', (code) => this.#exited(worker, code));
    let opened: Opened;
    try {
      opened = (await this.#call('open', [this.location])) as Opened;
    } catch (err) {
      await this.#stop();
      throw err;
    }
    this.#logger.info('journal store opened', {
      store: 'sqlite',
      location: this.location,
      schemaVersion: SQLITE_SCHEMA_VERSION,
      migratedFrom: opened.from,
    });
  }

  async acquire(callId: string, owner: string): Promise<Lease> {
    return (await this.#call('acquire', [callId, owner])) as Lease;
  }

  async append(lease: Lease, records: readonly StoredRecord[]): Promise<void> {
    await this.#call('append', [lease, records]);
  }

  async read(callId: string): Promise<StoredRecord[]> {
    return (await this.#call('read', [callId])) as StoredRecord[];
  }

  async summary(callId: string): Promise<CallSummary | null> {
    return (await this.#call('summary', [callId])) as CallSummary | null;
  }

  async list(limit: number): Promise<CallSummary[]> {
    return (await this.#call('list', [limit])) as CallSummary[];
  }

  async release(lease: Lease): Promise<void> {
    await this.#call('release', [lease]);
  }

  async callIds(after: string | null, limit: number): Promise<string[]> {
    return (await this.#call('callIds', [after, limit])) as string[];
  }

  async endedBefore(before: number, limit: number): Promise<string[]> {
    return (await this.#call('endedBefore', [before, limit])) as string[];
  }

  async rewrite(callId: string, lines: readonly LineRewrite[]): Promise<number> {
    return (await this.#call('rewrite', [callId, lines])) as number;
  }

  async erase(callId: string): Promise<number | null> {
    return (await this.#call('erase', [callId])) as number | null;
  }

  async secret(): Promise<Buffer> {
    // A Buffer crosses the thread boundary as a plain Uint8Array.
    return Buffer.from((await this.#call('secret', [])) as Uint8Array);
  }

  /** Lets requests sent before it finish, closes the database, then ends the worker. */
  async close(): Promise<void> {
    if (!this.#worker) return;
    this.#closing ??= (async () => {
      try {
        if (!this.#dead) await this.#call('close', []);
      } catch {
        // The worker died meanwhile: the database is closed with it.
      } finally {
        await this.#stop();
      }
    })();
    await this.#closing;
  }

  /**
   * The worker thread, for tests that kill it to check what callers then see.
   * @internal
   */
  get worker(): Worker | null {
    return this.#worker;
  }

  #call(op: Op, args: unknown[]): Promise<unknown> {
    const worker = this.#worker;
    if (this.#dead) return Promise.reject(this.#dead);
    if (!worker || (this.#closing && op !== 'close')) {
      return Promise.reject(new SwitchboardError('STORE_UNAVAILABLE', 'the SQLite store is not open'));
    }
    const id = this.#nextId++;
    // Idle, the worker does not keep the process alive; an unanswered request does (an append must not be lost
    // to the process exiting under it).
    if (this.#pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Sent with whatever else this turn of the event loop asks (the worker takes a batch per message).
      if (this.#outbox.push({ id, op, args }) === 1) queueMicrotask(() => this.#flush(worker));
    });
  }

  #flush(worker: Worker): void {
    const batch = this.#outbox.splice(0);
    if (worker === this.#worker && !this.#dead) {
      worker.postMessage(batch);
      return;
    }
    // The worker died or was stopped since: these were never sent.
    const err = this.#dead ?? new SwitchboardError('STORE_UNAVAILABLE', 'the SQLite store is not open');
    for (const request of batch) {
      const pending = this.#pending.get(request.id);
      this.#pending.delete(request.id);
      pending?.reject(err);
    }
  }

  #settle(response: Response): void {
    const pending = this.#pending.get(response.id);
    if (!pending) return;
    this.#pending.delete(response.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (response.ok) pending.resolve(response.value);
    else pending.reject(fromWire(response.error));
  }

  #exited(worker: Worker, code: number): void {
    if (worker !== this.#worker || this.#stopping) return;
    this.#dead = new SwitchboardError(
      'STORE_UNAVAILABLE',
      `the SQLite worker thread for ${this.location} exited (code ${code})`,
      { location: this.location, exitCode: code },
    );
    this.#logger.error('journal store worker exited', { store: 'sqlite', exitCode: code });
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(this.#dead);
  }

  /** Ends the worker and forgets it, so open() may start another. */
  async #stop(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#stopping = true;
    try {
      await worker.terminate();
    } finally {
      const closed = new SwitchboardError('STORE_UNAVAILABLE', 'the SQLite store was closed');
      for (const p of this.#pending.values()) p.reject(closed);
      this.#pending.clear();
      this.#worker = null;
      this.#closing = null;
      this.#dead = null;
      this.#stopping = false;
    }
  }
}

/**
 * Compiled to .js, the sibling .js runs as is. Under tsx (this file is .ts) the worker is TypeScript too, and it
 * goes through tsx like the rest of the process: tsx's loader, registered on the main thread by `--import tsx` or
 * bin/switchboard.js, does not reach worker threads, and `--import tsx` in the worker's execArgv does nothing
 * either (tsx registers itself only on the main thread there). Left alone, Node 20 refuses the .ts file and Node
 * 22.18 and later strip its types themselves, which refuses TypeScript that tsx accepts (parameter properties,
 * enums). So a small bootstrap registers tsx in the worker, then imports the worker, as model-cache.ts does for
 * training. Nothing of this process's own execArgv (an inspector port, say) is passed on.
 */
function startWorker(): Worker {
  const options = { execArgv: [], workerData: WORKER_DATA };
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./sqlite.worker.js', import.meta.url), options);
  const target = JSON.stringify(new URL('./sqlite.worker.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `(await import(${tsx})).register(); await import(${target});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), options);
}

/** The error the worker answered, rebuilt: a SwitchboardError keeps its code, data, message and retryability. */
function fromWire(wire: WireError): Error {
  if (wire.switchboard) {
    const err = new SwitchboardError(wire.code as ErrorCode, undefined, wire.data, {
      retryable: wire.retryable,
    });
    err.message = wire.message;
    return err;
  }
  return Object.assign(new Error(wire.message), wire.code === null ? {} : { code: wire.code });
}
