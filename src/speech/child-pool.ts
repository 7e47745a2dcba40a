/**
 * A supervised pool of child processes for the embedded speech engines (flite, pocketsphinx): their native or
 * WASI code is synchronous CPU work that can crash, so each runs in processes of its own and a crash costs only
 * the work of that child. The pool forks children, waits for each to say it is ready, carries IPC both ways,
 * notices crashes and restarts within a restart intensity (src/restart-intensity.ts), and shuts them down.
 * What the messages mean stays with the engine; request/response on top of it is in child-requests.ts.
 *
 * The start-up protocol every child follows: it sends `{ type: 'ready' }` once it can work, or
 * `{ type: 'failed', code, detail, data }` and exits when it cannot (that end is no crash).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../clock.ts';
import type { ErrorCode } from '../errors.ts';
import { SwitchboardError } from '../errors.ts';
import { RestartIntensity } from '../restart-intensity.ts';

/** The start-up messages of the protocol above. */
export type StartReply =
  { type: 'ready' } | { type: 'failed'; code: ErrorCode; detail: string; data: Record<string, unknown> };

/** How a child ended. */
export interface ChildEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not start, or a kill or send failed. */
  error: Error | undefined;
  /** It ended before saying ready. */
  starting: boolean;
  pid: number | undefined;
  /** The last characters it wrote to a piped stderr (an uncaught error's stack, say). */
  stderr: string;
}

export interface ChildPoolOptions<Out> {
  /** Most children at once. */
  size: number;
  /**
   * Forks one child; `dir` is its own temp folder when `workDirPrefix` is set (removed once it has ended).
   * Pipe stderr to have its tail in ChildEnd.
   */
  fork: (dir: string | undefined) => ChildProcess;
  /** A prefix for each child's temp folder under the system's; none unless given. */
  workDirPrefix?: string;
  /** Restart intensity: no child is started once this many crashed within `crashWindowMs`. */
  maxCrashes: number;
  crashWindowMs: number;
  clock?: Clock;
  /** Every message after the start-up ones. */
  onMessage: (child: PoolChild, message: Out) => void;
  /** A child ended without being asked to (or was killed for a broken channel); it has left the pool. */
  onCrash: (child: PoolChild, end: ChildEnd) => void;
  /** The error the ready promise of a child rejects with when it ends while starting. */
  endError: (end: ChildEnd) => SwitchboardError;
  /** The error refusing a start once the restart intensity is reached. */
  exhaustedError: (crashes: number, windowMs: number) => SwitchboardError;
  /** The error ready promises reject with when the pool closes. */
  closedError: () => SwitchboardError;
}

const STDERR_TAIL_CHARS = 2000;
const KILL_GRACE_MS = 2000;

/** One child of the pool. */
export class PoolChild {
  readonly process: ChildProcess;
  /** Its temp folder, when the pool made one. */
  readonly dir: string | undefined;
  /** Resolves once it said ready; rejects if it failed or ended first. Awaiting it is optional. */
  readonly ready: Promise<void>;
  /** Resolves once the process has ended, its channel closed and its folder is removed. */
  readonly gone: Promise<void>;
  /** What the engine keeps about it (its job, its streams). */
  isReady = false;
  /** Asked to end (close(), or a start failure it reported): its end is no crash. */
  stopping = false;
  exit: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined;
  stderr = '';
  /** SIGKILL was sent (once is enough; a failing kill would otherwise report an error that kills again). */
  forced = false;
  /** @internal */
  markReady: () => void = noop;
  /** @internal */
  failReady: (err: unknown) => void = noop;
  /** @internal */
  markGone: () => void = noop;

  /** @internal Children come from ChildPool.start. */
  constructor(process: ChildProcess, dir: string | undefined) {
    this.process = process;
    this.dir = dir;
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    // A failure also reaches the engine's work, so an unawaited ready must not count as unhandled.
    this.ready.catch(noop);
    this.gone = new Promise<void>((resolve) => (this.markGone = resolve));
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Sends one message; a broken channel kills the child, whose end the engine then hears of as a crash. */
  send(message: unknown): void {
    // A process that just died cannot take it; its end is reported anyway.
    if (!this.process.connected) return;
    this.process.send(message as never, undefined, undefined, (err) => {
      if (err) this.kill();
    });
  }

  /**
   * Holds or releases the event loop for this child: its process, its IPC channel and a piped stderr. An explicit
   * ref()/unref() on the channel overrides Node's own counting (listeners, writes in progress), so the engine
   * has the last word.
   */
  hold(held: boolean): void {
    const child = this.process;
    const handles = [child, child.channel, child.stderr instanceof Socket ? child.stderr : undefined];
    for (const handle of handles) {
      if (!handle) continue;
      if (held) handle.ref();
      else handle.unref();
    }
  }

  /** SIGKILL, once, unless it has already ended. */
  kill(): void {
    if (this.forced || this.exit) return;
    this.forced = true;
    this.process.kill('SIGKILL');
  }
}

export class ChildPool<Out extends { type: string }> {
  readonly #options: ChildPoolOptions<Out>;
  readonly #clock: Clock;
  readonly #children = new Set<PoolChild>();
  readonly #intensity: RestartIntensity;
  #crashes = 0;
  #closed = false;

  constructor(options: ChildPoolOptions<Out>) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#intensity = new RestartIntensity({
      max: options.maxCrashes,
      withinMs: options.crashWindowMs,
      now: () => this.#clock.monotonic(),
    });
  }

  get size(): number {
    return this.#options.size;
  }

  get children(): PoolChild[] {
    return [...this.#children];
  }

  /** Children that ended without being asked to, since the pool was made. */
  get crashes(): number {
    return this.#crashes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Forks one more child. Throws exhaustedError while crashes are at the restart intensity, and the fork's own
   * error when it cannot start; the pool may then be below its size.
   */
  start(): PoolChild {
    if (this.#closed) throw this.#options.closedError();
    const recent = this.#intensity.recent();
    if (recent >= this.#intensity.max) {
      throw this.#options.exhaustedError(recent, this.#intensity.withinMs);
    }
    const prefix = this.#options.workDirPrefix;
    const dir = prefix === undefined ? undefined : mkdtempSync(join(tmpdir(), prefix));
    let process: ChildProcess;
    try {
      process = this.#options.fork(dir);
    } catch (err) {
      if (dir !== undefined) void removeDir(dir);
      throw err;
    }
    const child = new PoolChild(process, dir);
    this.#children.add(child);
    process.stderr?.setEncoding('utf8');
    process.stderr?.on('data', (chunk: string) => {
      child.stderr = (child.stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    process.on('message', (message: Out | StartReply) => this.#onMessage(child, message));
    process.on('exit', (exitCode, signal) => {
      child.exit = { exitCode, signal };
    });
    let error: Error | undefined;
    // 'close' follows 'exit' once stderr and the IPC channel are closed too: every message and the whole stderr
    // tail have been read.
    process.on('close', (exitCode, signal) => {
      child.exit ??= { exitCode, signal };
      this.#onEnd(child, error);
    });
    process.on('error', (err) => {
      error = err;
      // Never started (no pid: 'close' may not follow), or a failed kill or send: make sure it is gone.
      if (process.pid === undefined) this.#onEnd(child, err);
      else child.kill();
    });
    return child;
  }

  /** Starts children up to the pool's size and waits until each is ready. */
  async fill(): Promise<void> {
    while (this.#children.size < this.#options.size) this.start();
    await Promise.all([...this.#children].map((child) => child.ready));
  }

  /** Ends every child (SIGTERM, then SIGKILL after a grace period); resolves once they are gone. */
  async close(): Promise<void> {
    this.#closed = true;
    const children = [...this.#children];
    this.#children.clear();
    for (const child of children) {
      child.stopping = true;
      child.failReady(this.#options.closedError());
      // Held until it is gone, or an awaited close() could find nothing keeping the process alive.
      child.hold(true);
      if (child.exit === undefined) child.process.kill('SIGTERM');
      const force = this.#clock.after(KILL_GRACE_MS, () => child.kill());
      void child.gone.then(() => force.cancel());
    }
    await Promise.all(children.map((child) => child.gone));
  }

  #onMessage(child: PoolChild, message: Out | StartReply): void {
    if (child.stopping) return;
    if (message.type === 'ready' && !child.isReady) {
      child.isReady = true;
      child.markReady();
    } else if (message.type === 'failed' && !child.isReady) {
      // It exits once its report is written: an expected end.
      const failed = message as Extract<StartReply, { type: 'failed' }>;
      child.stopping = true;
      child.failReady(new SwitchboardError(failed.code, failed.detail, failed.data));
      return;
    }
    this.#options.onMessage(child, message as Out);
  }

  #onEnd(child: PoolChild, error: Error | undefined): void {
    const { dir } = child;
    void (dir === undefined ? Promise.resolve() : removeDir(dir)).then(child.markGone);
    if (!this.#children.delete(child) || child.stopping) return;
    this.#crashes++;
    this.#intensity.record();
    const end: ChildEnd = {
      exitCode: child.exit?.exitCode ?? null,
      signal: child.exit?.signal ?? null,
      error,
      starting: !child.isReady,
      pid: child.pid,
      stderr: child.stderr,
    };
    child.failReady(this.#options.endError(end));
    this.#options.onCrash(child, end);
  }
}

function noop(): void {}

function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true }).catch(noop);
}
