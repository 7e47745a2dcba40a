/**
 * Offline text-to-speech with flite (CMU, BSD-style licence) compiled to WASI. Synthesis is synchronous CPU work
 * (tens of milliseconds per sentence), so it runs in a small pool of worker threads and the media thread only
 * receives finished 8 kHz mu-law bytes. Note: the first worker turns off V8 fast API calls for the whole process,
 * because WASI crashes the process with them on (see flite.worker.ts).
 */
import { Worker } from 'node:worker_threads';
import type { ErrorCode } from '../../errors.ts';
import { SwitchboardError } from '../../errors.ts';
import type { SynthesisRequest, SynthesizedAudio, TtsEngine } from './engine.ts';

/**
 * Voices of the bundled flite build that speak any text: 'kal' is natively 8 kHz and fastest; 'kal16' is
 * the same diphone voice at 16 kHz; 'awb', 'rms' and 'slt' are clearer 16 kHz voices. The build also lists
 * 'awb_time', which only speaks clock times, so it is left out.
 */
export const FLITE_VOICES: readonly string[] = Object.freeze(['kal', 'kal16', 'awb', 'rms', 'slt']);

/** Longest text one request may carry; longer prompts belong in several requests. */
export const FLITE_MAX_TEXT_CHARS = 5000;

/** Requests waiting for a worker beyond this are refused rather than queued without end. */
export const FLITE_MAX_PENDING = 256;

const DEFAULT_VOICE = 'rms';

/** A request from the engine to one worker. */
export interface FliteWorkerRequest {
  type: 'synthesize';
  id: number;
  text: string;
  voice: string;
}

/** A worker's answer: `ready` once its wasm module is compiled, then one `done` or `error` per request. */
export type FliteWorkerReply =
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
  if (typeof text !== 'string' || text.trim() === '')
    return new SwitchboardError('TTS_FAILED', 'text is empty');
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
  /** Worker threads in the pool (each synthesises one request at a time); 1 unless given. */
  workers?: number;
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
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly markReady: () => void;
  readonly failReady: (err: unknown) => void;
  isReady: boolean;
  job: Job | undefined;
}

let workersOf: (tts: FliteTts) => Worker[];

/** Test-only: the live worker threads of an engine, so a test can kill one the way a crash would. */
export function fliteWorkersForTest(tts: FliteTts): Worker[] {
  return workersOf(tts);
}

/** Flite behind a lazily started pool of worker threads; requests are served first come, first served. */
export class FliteTts implements TtsEngine {
  readonly name = 'flite';
  readonly defaultVoice: string;
  readonly #size: number;
  readonly #queue: Job[] = [];
  readonly #slots = new Set<Slot>();
  #nextId = 1;
  #closed = false;

  static {
    workersOf = (tts) => [...tts.#slots].map((slot) => slot.worker);
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
    this.defaultVoice = voice;
    this.#size = workers;
  }

  /** Start every worker now and wait until each has compiled flite, so the first call does not pay for it. */
  async warmUp(): Promise<void> {
    if (this.#closed) throw closedError();
    while (this.#slots.size < this.#size) this.#spawn();
    await Promise.all([...this.#slots].map((slot) => slot.ready));
  }

  /** Speak `req.text` as 8 kHz mu-law; see TtsEngine. */
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

  /** Reject everything pending and terminate the workers; later requests reject. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) settle(job, () => job.reject(closedError()));
    const workers: Worker[] = [];
    for (const slot of this.#slots) {
      const job = slot.job;
      if (job) settle(job, () => job.reject(closedError()));
      slot.failReady(closedError());
      workers.push(slot.worker);
    }
    this.#slots.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #abort(job: Job, signal: AbortSignal): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) this.#queue.splice(queued, 1);
    // A job already in a worker runs to the end (flite cannot be interrupted); its result is dropped.
    settle(job, () => job.reject(abortReason(signal)));
  }

  /** Hand queued jobs to idle workers, starting workers (up to the pool size) when none is idle. */
  #pump(): void {
    while (this.#queue.length > 0) {
      let slot: Slot | undefined;
      for (const s of this.#slots) {
        if (!s.job) {
          slot = s;
          break;
        }
      }
      if (!slot) {
        if (this.#slots.size >= this.#size) return;
        slot = this.#spawn();
      }
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      const message: FliteWorkerRequest = {
        type: 'synthesize',
        id: job.id,
        text: job.text,
        voice: job.voice,
      };
      slot.worker.postMessage(message);
    }
  }

  #spawn(): Slot {
    const worker = startWorker();
    let markReady: () => void = noop;
    let failReady: (err: unknown) => void = noop;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    // Only warmUp() awaits readiness; a failure also reaches the jobs, so it must not count as unhandled.
    ready.catch(noop);
    const slot: Slot = { worker, ready, markReady, failReady, isReady: false, job: undefined };
    this.#slots.add(slot);

    worker.on('message', (reply: FliteWorkerReply) => this.#onReply(slot, reply));
    worker.on('error', (err) => this.#onLost(slot, err));
    worker.on('exit', (exitCode) => this.#onLost(slot, undefined, exitCode));
    return slot;
  }

  #onReply(slot: Slot, reply: FliteWorkerReply): void {
    if (reply.type === 'ready') {
      slot.isReady = true;
      slot.markReady();
      // An idle worker must not keep the process alive; it is ref'd again while it has work.
      if (!slot.job) slot.worker.unref();
      return;
    }
    const job = slot.job;
    if (!job || job.id !== reply.id) return;
    slot.job = undefined;
    if (slot.isReady) slot.worker.unref();
    if (reply.type === 'done') {
      settle(job, () => job.resolve({ mulaw: reply.mulaw, durationMs: reply.durationMs }));
    } else {
      settle(job, () => job.reject(new SwitchboardError(reply.code, reply.detail, reply.data)));
    }
    this.#pump();
  }

  /** A worker threw or exited: fail its job; the next request starts a replacement. */
  #onLost(slot: Slot, err: unknown, exitCode?: number): void {
    if (!this.#slots.delete(slot)) return;
    const lost = (): SwitchboardError =>
      new SwitchboardError('TTS_FAILED', 'flite worker died', { exitCode }, err ? { cause: err } : undefined);
    slot.failReady(lost());
    const job = slot.job;
    if (job) settle(job, () => job.reject(lost()));
    if (!slot.isReady) {
      // It died while starting (a missing or broken flite.wasm): every queued job would meet the same fate.
      for (const queued of this.#queue.splice(0)) settle(queued, () => queued.reject(lost()));
    }
    if (err) void slot.worker.terminate();
    if (!this.#closed) this.#pump();
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

/** The signal's reason when it is an Error (an AbortError DOMException by default), else a fresh AbortError. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('The operation was aborted', 'AbortError');
}

function noop(): void {}

/**
 * Start one worker. Under tsx (this file is .ts) the worker is TypeScript too, and Node 20 does not carry tsx's
 * `--import` hooks into worker threads, so a tiny bootstrap registers tsx inside the worker before loading it.
 * Compiled to .js, the sibling .js worker is started directly.
 */
function startWorker(): Worker {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const entry = new URL(`./flite.worker${ext}`, import.meta.url);
  const options = { name: 'flite', stdout: false, stderr: false };
  if (ext === '.js') return new Worker(entry, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
