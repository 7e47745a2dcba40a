/**
 * Offline text-to-speech with flite (CMU, BSD-style licence) compiled to WASI. Synthesis is synchronous CPU work
 * (tens of milliseconds per sentence), so it runs in a small pool of child processes (flite.child.ts) and the
 * server only receives finished 8 kHz mu-law bytes. Child processes, not worker threads: WASI on Node 20 needs V8
 * fast API calls off or it can segfault (nodejs/node#46777), and that flag is set on each child's command line
 * only, so the server's own V8 is never reconfigured; and if flite crashes anyway, only that child dies. The
 * children are supervised by the speech engines' shared pool (../child-requests.ts): a crash fails the request
 * the child was running, queued requests go to a new child, and children that keep crashing make the engine give
 * up on the queue rather than restart them forever.
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../clock.ts';
import type { ErrorCode } from '../../errors.ts';
import { SwitchboardError } from '../../errors.ts';
import type { ChildEnd } from '../child-pool.ts';
import { ChildRequests } from '../child-requests.ts';
import type { SynthesisRequest, SynthesizedAudio, TtsEngine, TtsShed } from './engine.ts';

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

/** A request not yet taken by a child after this long is refused: a caller would hear it far too late. */
export const FLITE_MAX_WAIT_MS = 10_000;

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
  /** Longest a request waits for a child before it is refused (TTS_FAILED); FLITE_MAX_WAIT_MS unless given. */
  maxWaitMs?: number;
  /** Times the restart intensity, the grace before a stuck child is killed and maxWaitMs; the system clock unless given. */
  clock?: Clock;
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

interface FliteJob {
  text: string;
  voice: string;
}

/** Flite behind a lazily started, supervised pool of child processes (see child-requests.ts). */
export class FliteTts implements TtsEngine {
  readonly name = 'flite';
  readonly defaultVoice: string;
  /** Flite would read the markup aloud: it always speaks the plain text. */
  readonly readsSsml = false;
  readonly #requests: ChildRequests<FliteJob, FliteChildReply, SynthesizedAudio>;

  static {
    childrenOf = (tts) =>
      tts.#requests.pool.children.map((child) => ({
        child: child.process,
        pid: child.pid,
        dir: child.dir!,
        ready: child.isReady,
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
    const maxWaitMs = options.maxWaitMs ?? FLITE_MAX_WAIT_MS;
    if (!(maxWaitMs > 0) || !Number.isFinite(maxWaitMs)) {
      throw new SwitchboardError('CONFIG_INVALID', 'flite maxWaitMs must be a positive number', {
        maxWaitMs,
      });
    }
    this.defaultVoice = voice;
    this.#requests = new ChildRequests<FliteJob, FliteChildReply, SynthesizedAudio>({
      size: workers,
      maxCrashes,
      crashWindowMs,
      ...(options.clock ? { clock: options.clock } : {}),
      workDirPrefix: 'switchboard-flite-',
      fork: (dir) => startChild(dir!, voice),
      maxPending: FLITE_MAX_PENDING,
      queueFull: (pending) => new SwitchboardError('TTS_FAILED', 'queue full', { pending }),
      maxWaitMs,
      waitedTooLong: (waitedMs) =>
        new SwitchboardError('TTS_FAILED', `waited ${waitedMs} ms for a flite child`, { waitedMs }),
      closedError,
      startError,
      exhaustedError: (crashes, windowMs) =>
        new SwitchboardError('TTS_FAILED', 'flite children keep crashing; not restarting them for now', {
          crashes,
          windowMs,
        }),
      endError: childDied,
      message: (id, job): FliteChildRequest => ({ type: 'synthesize', id, text: job.text, voice: job.voice }),
      answer: (reply) => {
        if (reply.type === 'done') {
          // The bytes arrive as a view into the IPC read buffer; copy them so the audio holds only itself.
          return {
            id: reply.id,
            result: { mulaw: new Uint8Array(reply.mulaw), durationMs: reply.durationMs },
          };
        }
        if (reply.type === 'error') {
          return { id: reply.id, error: new SwitchboardError(reply.code, reply.detail, reply.data) };
        }
        return null;
      },
    });
  }

  /** Requests refused because the children were behind: the queue was full, or one waited past maxWaitMs. */
  get shed(): TtsShed {
    return this.#requests.shed;
  }

  /** Children that ended without being asked to (a signal such as SIGSEGV, or any exit), since construction. */
  get crashes(): number {
    return this.#requests.pool.crashes;
  }

  /** Start every child now and wait until each has compiled flite, so the first call does not pay for it. */
  warmUp(): Promise<void> {
    return this.#requests.warmUp();
  }

  /** Speak `req.text` as 8 kHz mu-law (`ssml` and `language` are ignored); see TtsEngine. */
  synthesize(req: SynthesisRequest): Promise<SynthesizedAudio> {
    const voice = req.voice ?? this.defaultVoice;
    if (this.#requests.pool.closed) return Promise.reject(closedError());
    const invalid = fliteRequestError(req.text, voice);
    if (invalid) return Promise.reject(invalid);
    // A job already in a child runs to the end if aborted (flite cannot be interrupted); its result is dropped.
    return this.#requests.request({ text: req.text, voice }, req.signal);
  }

  /** Reject everything pending and kill the children; resolves once they are gone. Later requests reject. */
  close(): Promise<void> {
    return this.#requests.close();
  }
}

/** A child ended while starting or working: how, with its stderr tail for the report (never in the message). */
function childDied(end: ChildEnd): SwitchboardError {
  const how = end.signal
    ? `killed by ${end.signal}`
    : end.exitCode === null
      ? 'could not start'
      : `exited with code ${end.exitCode}`;
  return new SwitchboardError(
    'TTS_FAILED',
    `flite child died (${how})`,
    { signal: end.signal, exitCode: end.exitCode, pid: end.pid, stderr: end.stderr },
    end.error ? { cause: end.error } : undefined,
  );
}

function closedError(): SwitchboardError {
  return new SwitchboardError('TTS_FAILED', 'flite engine is closed');
}

function startError(err: unknown): SwitchboardError {
  return new SwitchboardError('TTS_FAILED', 'could not start a flite child', {}, { cause: err });
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
