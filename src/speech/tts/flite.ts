/**
 * Offline text-to-speech with flite (CMU, BSD-style licence) compiled to WASI. Synthesis is synchronous CPU work
 * (tens of milliseconds per sentence), so it runs in a small pool of child processes (flite.child.ts) and the
 * server only receives finished 8 kHz mu-law bytes. Child processes, not worker threads: WASI on Node 20 needs V8
 * fast API calls off or it can segfault (nodejs/node#46777), and that flag is set on each child's command line
 * only, so the server's own V8 is never reconfigured; and if flite crashes anyway, only that child dies. The
 * engine supervises its children: a crash fails the request the child was running, queued requests go to a new
 * child, and children that keep crashing make the engine give up on the queue rather than restart them forever.
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorCode } from '../../errors.ts';
import { SwitchboardError } from '../../errors.ts';
import { abortReason } from '../abort.ts';
import type { SynthesisRequest, SynthesizedAudio, TtsEngine } from './engine.ts';

/**
 * Voices of the bundled flite build that speak any text: 'kal' is natively 8 kHz and fastest; 'kal16' is
 * the same diphone voice at 16 kHz; 'awb', 'rms' and 'slt' are clearer 16 kHz voices. The build also lists
 * 'awb_time', which only speaks clock times, so it is left out.
 */
export const FLITE_VOICES: readonly string[] = Object.freeze(['kal', 'kal16', 'awb', 'rms', 'slt']);

/** Longest text one request may carry; longer prompts belong in several requests. */
export const FLITE_MAX_TEXT_CHARS = 5000;

/** Requests waiting for a child beyond this are refused rather than queued without end. */
export const FLITE_MAX_PENDING = 256;

const DEFAULT_VOICE = 'rms';

/** Restart intensity: once this many children have crashed within FLITE_CRASH_WINDOW_MS, none is restarted. */
export const FLITE_MAX_CRASHES = 5;
export const FLITE_CRASH_WINDOW_MS = 10_000;

/** A request from the engine to one child. */
export interface FliteChildRequest {
  type: 'synthesize';
  id: number;
  text: string;
  voice: string;
}

/** A child's answer: `ready` once its wasm module is compiled, then one `done` or `error` per request. */
export type FliteChildReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; mulaw: Uint8Array; durationMs: number }
  | { type: 'error'; id: number; code: ErrorCode; detail: string; data: Record<string, unknown> };

/** Throws TTS_FAILED unless flite can be asked to speak `text` with `voice`; the text never enters the message. */
export function checkFliteRequest(text: unknown, voice: string): asserts text is string {
  const err = fliteRequestError(text, voice);
  if (err) throw err;
}

function fliteRequestError(text: unknown, voice: string): SwitchboardError | undefined {
  if (!FLITE_VOICES.includes(voice)) {
    return new SwitchboardError(
      'TTS_FAILED',
      `unknown flite voice ${JSON.stringify(String(voice).slice(0, 40))}; valid voices: ${FLITE_VOICES.join(', ')}`,
      { voice, voices: FLITE_VOICES },
    );
  }
  if (typeof text !== 'string' || text.trim() === '') {
    return new SwitchboardError('TTS_FAILED', 'text is empty');
  }
  if (text.length > FLITE_MAX_TEXT_CHARS) {
    return new SwitchboardError(
      'TTS_FAILED',
      `text is ${text.length} characters, over the limit of ${FLITE_MAX_TEXT_CHARS}`,
      { length: text.length },
    );
  }
  return undefined;
}

/** Longest run of non-space characters handed to flite; longer runs are broken up (see fliteText). */
export const FLITE_MAX_TOKEN_CHARS = 100;
const LONG_RUN = new RegExp(`\\S{${FLITE_MAX_TOKEN_CHARS + 1},}`, 'gu');
const RUN_CHUNK = new RegExp(`\\S{1,${FLITE_MAX_TOKEN_CHARS}}`, 'gu');

/**
 * The text as flite is given it. flite reads argv as C strings, so control characters (a NUL would cut the text
 * short) become spaces; and its cost grows with the square of a token's length (a 5,000-letter token took 19 s
 * versus 70 ms for 100 letters), so runs longer than FLITE_MAX_TOKEN_CHARS are split with spaces.
 */
export function fliteText(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.replace(LONG_RUN, (run) => run.match(RUN_CHUNK)!.join(' '));
}

export interface FliteOptions {
  /** Default voice, one of FLITE_VOICES; 'rms' unless given. */
  voice?: string;
  /** Child processes in the pool (each synthesises one request at a time); 1 unless given. */
  workers?: number;
  /** Restart intensity: no child is restarted once this many crashed within `crashWindowMs`. FLITE_MAX_CRASHES. */
  maxCrashes?: number;
  /** See `maxCrashes`; FLITE_CRASH_WINDOW_MS unless given. */
  crashWindowMs?: number;
}

interface Job {
  readonly id: number;
  readonly text: string;
  readonly voice: string;
  readonly resolve: (audio: SynthesizedAudio) => void;
  readonly reject: (err: unknown) => void;
  detach: () => void;
  settled: boolean;
}

interface Slot {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly ready: Promise<void>;
  readonly markReady: () => void;
  readonly failReady: (err: unknown) => void;
  /** Resolves once the process has exited and its folder is removed. */
  readonly gone: Promise<void>;
  readonly markGone: () => void;
  isReady: boolean;
  /** Set by close(): the engine killed it, so its end is no crash. */
  stopping: boolean;
  job: Job | undefined;
  exit: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined;
  /** SIGKILL was sent (once is enough; a failing kill would otherwise report an error that kills again). */
  forced: boolean;
  /** The last characters the child wrote to stderr (an uncaught error's stack, say), for the crash report. */
  stderr: string;
}

/** What a test may see of one child. */
export interface FliteChildForTest {
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  readonly dir: string;
  readonly ready: boolean;
}

let childrenOf: (tts: FliteTts) => FliteChildForTest[];

/** Test-only: an engine's live child processes and their folders, so a test can kill one as a crash would. */
export function fliteChildrenForTest(tts: FliteTts): FliteChildForTest[] {
  return childrenOf(tts);
}

const STDERR_TAIL_CHARS = 2000;
const KILL_GRACE_MS = 2000;

/** Flite behind a lazily started, supervised pool of child processes; requests are served first come, first served. */
export class FliteTts implements TtsEngine {
  readonly name = 'flite';
  readonly defaultVoice: string;
  /** Flite would read the markup aloud: it always speaks the plain text. */
  readonly readsSsml = false;
  readonly #size: number;
  readonly #maxCrashes: number;
  readonly #crashWindowMs: number;
  readonly #queue: Job[] = [];
  readonly #slots = new Set<Slot>();
  /** When recent crashes happened (performance.now()), for the restart intensity. */
  #crashTimes: number[] = [];
  #crashes = 0;
  #nextId = 1;
  #closed = false;

  static {
    childrenOf = (tts) =>
      [...tts.#slots].map((slot) => ({
        child: slot.child,
        pid: slot.child.pid,
        dir: slot.dir,
        ready: slot.isReady,
      }));
  }

  constructor(options: FliteOptions = {}) {
    const voice = options.voice ?? DEFAULT_VOICE;
    const invalid = fliteRequestError('-', voice);
    if (invalid) throw invalid;
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
      throw new SwitchboardError('CONFIG_INVALID', 'flite workers must be an integer from 1 to 64', {
        workers,
      });
    }
    const maxCrashes = options.maxCrashes ?? FLITE_MAX_CRASHES;
    const crashWindowMs = options.crashWindowMs ?? FLITE_CRASH_WINDOW_MS;
    if (!Number.isInteger(maxCrashes) || maxCrashes < 1 || !(crashWindowMs >= 0)) {
      throw new SwitchboardError(
        'CONFIG_INVALID',
        'flite maxCrashes must be an integer >= 1 and crashWindowMs a number >= 0',
        { maxCrashes, crashWindowMs },
      );
    }
    this.defaultVoice = voice;
    this.#size = workers;
    this.#maxCrashes = maxCrashes;
    this.#crashWindowMs = crashWindowMs;
  }

  /** Children that ended without being asked to (a signal such as SIGSEGV, or any exit), since construction. */
  get crashes(): number {
    return this.#crashes;
  }

  /** Start every child now and wait until each has compiled flite, so the first call does not pay for it. */
  async warmUp(): Promise<void> {
    if (this.#closed) throw closedError();
    while (this.#slots.size < this.#size) {
      try {
        this.#spawn();
      } catch (err) {
        throw startError(err);
      }
    }
    await Promise.all([...this.#slots].map((slot) => slot.ready));
  }

  /** Speak `req.text` as 8 kHz mu-law (`ssml` and `language` are ignored); see TtsEngine. */
  synthesize(req: SynthesisRequest): Promise<SynthesizedAudio> {
    return new Promise<SynthesizedAudio>((resolve, reject) => {
      if (this.#closed) return reject(closedError());
      const voice = req.voice ?? this.defaultVoice;
      const invalid = fliteRequestError(req.text, voice);
      if (invalid) return reject(invalid);
      const signal = req.signal;
      if (signal?.aborted) return reject(abortReason(signal));
      if (this.#queue.length >= FLITE_MAX_PENDING) {
        return reject(new SwitchboardError('TTS_FAILED', 'queue full', { pending: this.#queue.length }));
      }
      const job: Job = {
        id: this.#nextId++,
        text: req.text,
        voice,
        resolve,
        reject,
        detach: noop,
        settled: false,
      };
      if (signal) {
        const onAbort = (): void => this.#abort(job, signal);
        signal.addEventListener('abort', onAbort, { once: true });
        job.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** Reject everything pending and kill the children; resolves once they are gone. Later requests reject. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) settle(job, () => job.reject(closedError()));
    const slots = [...this.#slots];
    this.#slots.clear();
    for (const slot of slots) {
      slot.stopping = true;
      const job = slot.job;
      if (job) settle(job, () => job.reject(closedError()));
      slot.failReady(closedError());
      // Held until it is gone, or an awaited close() could find nothing keeping the process alive.
      setRef(slot.child, true);
      // The child has no SIGTERM handler, so it ends at once, even in the middle of a synthesis.
      if (slot.exit === undefined) slot.child.kill('SIGTERM');
      const force = setTimeout(() => forceKill(slot), KILL_GRACE_MS);
      void slot.gone.then(() => clearTimeout(force));
    }
    await Promise.all(slots.map((slot) => slot.gone));
  }

  #abort(job: Job, signal: AbortSignal): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) this.#queue.splice(queued, 1);
    // A job already in a child runs to the end (flite cannot be interrupted); its result is dropped.
    settle(job, () => job.reject(abortReason(signal)));
  }

  /** Hand queued jobs to idle children, then start children (up to the pool size) for what is left. */
  #pump(): void {
    if (this.#closed) return;
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (slot.isReady && !slot.job) this.#dispatch(slot, this.#queue.shift()!);
    }
    let starting = 0;
    for (const slot of this.#slots) if (!slot.isReady) starting++;
    while (this.#queue.length > starting && this.#slots.size < this.#size) {
      const recent = this.#recentCrashes();
      if (recent >= this.#maxCrashes) {
        // Restart intensity reached: children that crash on start would otherwise be restarted forever.
        // Children still alive keep serving the queue; with none, it fails.
        if (this.#slots.size === 0) {
          this.#failQueue(
            new SwitchboardError('TTS_FAILED', 'flite children keep crashing; not restarting them for now', {
              crashes: recent,
              windowMs: this.#crashWindowMs,
            }),
          );
        }
        return;
      }
      try {
        this.#spawn();
      } catch (err) {
        if (this.#slots.size === 0) this.#failQueue(startError(err));
        return;
      }
      starting++;
    }
  }

  #dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    setRef(slot.child, true);
    const message: FliteChildRequest = { type: 'synthesize', id: job.id, text: job.text, voice: job.voice };
    slot.child.send(message, undefined, undefined, (err) => {
      // The channel is gone or broken: make sure the child is too; its end fails the job.
      if (err) forceKill(slot);
    });
  }

  #failQueue(err: SwitchboardError): void {
    for (const job of this.#queue.splice(0)) settle(job, () => job.reject(err));
  }

  #recentCrashes(): number {
    const since = performance.now() - this.#crashWindowMs;
    this.#crashTimes = this.#crashTimes.filter((t) => t > since);
    return this.#crashTimes.length;
  }

  #spawn(): Slot {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-flite-'));
    let child: ChildProcess;
    try {
      child = startChild(dir, this.defaultVoice);
    } catch (err) {
      void removeDir(dir);
      throw err;
    }
    let markReady: () => void = noop;
    let failReady: (err: unknown) => void = noop;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    // Only warmUp() awaits readiness; a failure also reaches the jobs, so it must not count as unhandled.
    ready.catch(noop);
    let markGone: () => void = noop;
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    const slot: Slot = {
      child,
      dir,
      ready,
      markReady,
      failReady,
      gone,
      markGone,
      isReady: false,
      stopping: false,
      forced: false,
      job: undefined,
      exit: undefined,
      stderr: '',
    };
    this.#slots.add(slot);

    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      slot.stderr = (slot.stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    child.on('message', (reply: FliteChildReply) => this.#onReply(slot, reply));
    child.on('exit', (exitCode, signal) => {
      slot.exit = { exitCode, signal };
    });
    // 'close' comes after 'exit' once stderr and the IPC channel are closed too, so the stderr tail is whole.
    child.on('close', (exitCode, signal) => {
      slot.exit ??= { exitCode, signal };
      this.#onEnd(slot);
    });
    child.on('error', (err) => {
      // Never started (no pid: 'close' may not follow), or a failed kill or send: make sure it is gone.
      if (child.pid === undefined) this.#onEnd(slot, err);
      else forceKill(slot);
    });
    return slot;
  }

  #onReply(slot: Slot, reply: FliteChildReply): void {
    if (slot.stopping) return;
    if (reply.type === 'ready') {
      slot.isReady = true;
      slot.markReady();
      // An idle child must not keep the process alive; it is held again while it has work.
      if (!slot.job) setRef(slot.child, false);
      this.#pump();
      return;
    }
    const job = slot.job;
    if (!job || job.id !== reply.id) return;
    slot.job = undefined;
    setRef(slot.child, false);
    if (reply.type === 'done') {
      // The bytes arrive as a view into the IPC read buffer; copy them so the audio holds only itself.
      const mulaw = new Uint8Array(reply.mulaw);
      settle(job, () => job.resolve({ mulaw, durationMs: reply.durationMs }));
    } else {
      settle(job, () => job.reject(new SwitchboardError(reply.code, reply.detail, reply.data)));
    }
    this.#pump();
  }

  /** A child ended: remove its folder and, unless close() ended it, fail its job and restart on demand. */
  #onEnd(slot: Slot, err?: unknown): void {
    void removeDir(slot.dir).then(slot.markGone);
    if (!this.#slots.delete(slot) || slot.stopping) return;
    this.#crashes++;
    this.#crashTimes.push(performance.now());
    const { exitCode = null, signal = null } = slot.exit ?? {};
    const how = signal
      ? `killed by ${signal}`
      : exitCode === null
        ? 'could not start'
        : `exited with code ${exitCode}`;
    const lost = (): SwitchboardError =>
      new SwitchboardError(
        'TTS_FAILED',
        `flite child died (${how})`,
        { signal, exitCode, pid: slot.child.pid, stderr: slot.stderr },
        err ? { cause: err } : undefined,
      );
    slot.failReady(lost());
    const job = slot.job;
    slot.job = undefined;
    if (job) settle(job, () => job.reject(lost()));
    // Queued jobs are not lost: they go to a replacement, unless children keep crashing (see #pump).
    this.#pump();
  }
}

function forceKill(slot: Slot): void {
  if (slot.forced || slot.exit) return;
  slot.forced = true;
  slot.child.kill('SIGKILL');
}

/** Holds or releases the event loop for a child: its process, its IPC channel and its stderr pipe. */
function setRef(child: ChildProcess, held: boolean): void {
  // An explicit ref()/unref() on the channel overrides Node's own counting (listeners, writes in progress), so the
  // engine has the last word; it holds the channel whenever a request or a start-up is in progress.
  const handles = [child, child.channel, child.stderr instanceof Socket ? child.stderr : undefined];
  for (const handle of handles) {
    if (!handle) continue;
    if (held) handle.ref();
    else handle.unref();
  }
}

function settle(job: Job, act: () => void): void {
  if (job.settled) return;
  job.settled = true;
  job.detach();
  act();
}

function closedError(): SwitchboardError {
  return new SwitchboardError('TTS_FAILED', 'flite engine is closed');
}

function startError(err: unknown): SwitchboardError {
  return new SwitchboardError('TTS_FAILED', 'could not start a flite child', {}, { cause: err });
}

function noop(): void {}

function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true }).catch(noop);
}

/**
 * V8 flags on each child's command line, and only there: fast API calls off, which WASI needs on Node 20 (see the
 * top of this file), and `gc()` exposed, which the child runs when idle (see flite.child.ts).
 */
const CHILD_V8_FLAGS = ['--no-turbo-fast-api-calls', '--expose-gc'];

/**
 * Fork one child with `dir` as its work folder and `voice` to warm up with. Under tsx (this file is .ts) the child is TypeScript too, so it
 * loads tsx's loader by absolute URL: that works whether this process got tsx from `--import tsx` or from tsx's
 * register() API (bin/switchboard.js), and whatever the child's working folder. Compiled to .js, the sibling .js
 * is forked directly. Nothing of this process's own execArgv (an inspector port, say) is passed on.
 */
function startChild(dir: string, voice: string): ChildProcess {
  const ts = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(ts ? './flite.child.ts' : './flite.child.js', import.meta.url));
  const execArgv = ts ? [...CHILD_V8_FLAGS, '--import', import.meta.resolve('tsx')] : [...CHILD_V8_FLAGS];
  return fork(entry, [dir, voice], {
    execArgv,
    serialization: 'advanced',
    // stdout is unused (flite's own output goes to a file); stderr is kept for crash reports.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
}
