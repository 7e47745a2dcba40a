/**
 * Offline speech-to-text with pocketsphinx (CMU, BSD licence; Debian's libpocketsphinx3 and pocketsphinx-en-us)
 * called through koffi. Decoding is synchronous and CPU-heavy, and native code can crash, so it runs in a small
 * pool of child processes (pocketsphinx.child.ts), each holding one decoder warmed up at start; each stream is
 * assigned the least busy one. Each ListenContext becomes a search (a grammar for a closed question, a bigram
 * model of the flow's domain for an open one), built once per decoder. A crashed decoder process fails its
 * streams with STT_FAILED and is replaced; the server and its other calls carry on.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SwitchboardError } from '../../errors.ts';
import { checkModelFiles } from './decoder.ts';
import type { ListenContext, RecognitionRequest, RecognitionStream, SttEngine } from './engine.ts';
import {
  DEFAULT_DICTIONARY,
  DEFAULT_GENERIC_LM,
  DEFAULT_LIBRARY,
  DEFAULT_MODEL_DIR,
  loadPocketsphinx,
} from './pocketsphinx-binding.ts';
import type { DecoderSetup, FromDecoder, ToDecoder } from './pocketsphinx.child.ts';
import type { SearchSpec } from './search.ts';
import { searchSpec } from './search.ts';

const SAMPLE_RATE = 8000;

export interface PocketsphinxOptions {
  /** Path or soname of libpocketsphinx; DEFAULT_LIBRARY unless given. */
  library?: string;
  modelDir?: string;
  dictionary?: string;
  genericLm?: string;
  /** Decoder processes; 2 unless given. Each decodes one utterance at a time. */
  decoders?: number;
  /**
   * About 4 s of 8 kHz speech each new decoder decodes once, so its running cepstral mean fits speech before a
   * caller's first words (a fresh decoder gets a third of the words right). Without it a decoder starts cold.
   */
  warmUpAudio?: Int16Array;
  /** Audio a stream may have waiting for its decoder, in ms; frames past it are dropped. 30 s unless given. */
  maxBufferedMs?: number;
  /** An utterance is finalized by the engine after this long without endUtterance(); 30 s unless given. */
  maxUtteranceMs?: number;
  /**
   * Restart intensity: no decoder process is restarted once this many crashed within `crashWindowMs`. 5 and
   * 60 s unless given.
   */
  maxCrashes?: number;
  crashWindowMs?: number;
}

interface Slot {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  /** Resolves once the process has ended and its channel closed. */
  readonly gone: Promise<void>;
  readonly streams: Set<StreamState>;
  stopping: boolean;
}

interface StreamState {
  readonly id: number;
  readonly req: RecognitionRequest;
  readonly spec: SearchSpec;
  slot: Slot;
  pending: Int16Array[];
  pendingSamples: number;
  /** 8 kHz index of the first pending sample. */
  pendingAt: number;
  inFlight: boolean;
  /** Samples written since the stream started, dropped ones included, so times stay those of the call. */
  written: number;
  dropped: number;
  closed: boolean;
  detach: () => void;
}

/** A recognition stream of this engine: RecognitionStream plus how many frames it dropped. */
export interface PocketsphinxStream extends RecognitionStream {
  readonly droppedFrames: number;
}

let processesOf: (engine: PocketsphinxStt) => ChildProcess[];

/** Test-only: the engine's decoder processes, so a test can crash one. */
export function pocketsphinxProcessesForTest(engine: PocketsphinxStt): ChildProcess[] {
  return processesOf(engine);
}

export class PocketsphinxStt implements SttEngine {
  readonly name = 'pocketsphinx';
  readonly #setup: DecoderSetup;
  readonly #maxBuffered: number;
  readonly #maxCrashes: number;
  readonly #crashWindowMs: number;
  readonly #slots = new Set<Slot>();
  readonly #specs = new WeakMap<ListenContext, SearchSpec>();
  #crashTimes: number[] = [];
  #nextId = 1;
  #closed = false;
  #dropped = 0;

  static {
    processesOf = (engine) => [...engine.#slots].map((slot) => slot.child);
  }

  private constructor(setup: DecoderSetup, options: PocketsphinxOptions) {
    this.#setup = setup;
    this.#maxBuffered = Math.round(((options.maxBufferedMs ?? 30_000) * SAMPLE_RATE) / 1000);
    this.#maxCrashes = options.maxCrashes ?? 5;
    this.#crashWindowMs = options.crashWindowMs ?? 60_000;
  }

  /**
   * Starts the decoders and waits until each is warm. Rejects with STT_UNAVAILABLE (saying what to install)
   * when the library or the model files are missing.
   */
  static async open(options: PocketsphinxOptions = {}): Promise<PocketsphinxStt> {
    const decoders = options.decoders ?? 2;
    if (!Number.isInteger(decoders) || decoders < 1 || decoders > 64) {
      throw new SwitchboardError('CONFIG_INVALID', 'pocketsphinx decoders must be an integer from 1 to 64', {
        decoders,
      });
    }
    const files = {
      library: options.library ?? DEFAULT_LIBRARY,
      modelDir: options.modelDir ?? DEFAULT_MODEL_DIR,
      dictionary: options.dictionary ?? DEFAULT_DICTIONARY,
      genericLm: options.genericLm ?? DEFAULT_GENERIC_LM,
    };
    // Checked here too, so a missing install is a clear rejection rather than a decoder's failure report.
    loadPocketsphinx(files.library);
    checkModelFiles(files);
    const maxUtteranceMs = options.maxUtteranceMs ?? 30_000;
    const setup: DecoderSetup = {
      files,
      warmUp: options.warmUpAudio ?? null,
      maxUtteranceSamples: Math.round((maxUtteranceMs * SAMPLE_RATE) / 1000),
    };
    const engine = new PocketsphinxStt(setup, options);
    const slots = Array.from({ length: decoders }, () => engine.#spawn());
    try {
      await Promise.all(slots.map((slot) => slot.ready));
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  }

  /** Frames dropped by every stream because their decoder was behind. */
  get droppedFrames(): number {
    return this.#dropped;
  }

  stream(req: RecognitionRequest): PocketsphinxStream {
    let spec = this.#specs.get(req.context);
    if (!spec) this.#specs.set(req.context, (spec = searchSpec(req.context)));
    const slot = this.#leastBusy();
    const state: StreamState = {
      id: this.#nextId++,
      req,
      spec,
      slot: slot as Slot,
      pending: [],
      pendingSamples: 0,
      pendingAt: 0,
      inFlight: false,
      written: 0,
      dropped: 0,
      closed: false,
      detach: noop,
    };
    const handle: PocketsphinxStream = {
      write: (pcm) => this.#write(state, pcm),
      endUtterance: () => this.#end(state),
      close: () => this.#close(state),
      get droppedFrames() {
        return state.dropped;
      },
    };
    if (this.#closed || !slot) {
      state.closed = true;
      const err = new SwitchboardError(
        'STT_FAILED',
        this.#closed ? 'engine is closed' : 'no decoder is running',
      );
      queueMicrotask(() => req.onError(err));
      return handle;
    }
    if (req.signal) {
      if (req.signal.aborted) {
        state.closed = true;
        return handle;
      }
      const onAbort = (): void => this.#close(state);
      req.signal.addEventListener('abort', onAbort, { once: true });
      state.detach = () => req.signal?.removeEventListener('abort', onAbort);
    }
    slot.streams.add(state);
    this.#send(slot, { type: 'open', stream: state.id, spec });
    return handle;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const slots = [...this.#slots];
    this.#slots.clear();
    for (const slot of slots) {
      slot.stopping = true;
      for (const state of slot.streams) this.#close(state);
      slot.child.kill('SIGTERM');
    }
    await Promise.all(slots.map((slot) => slot.gone));
  }

  #write(state: StreamState, pcm: Int16Array): void {
    if (state.closed) return;
    const at = state.written;
    state.written += pcm.length;
    if (state.pendingSamples + pcm.length > this.#maxBuffered) {
      state.dropped++;
      this.#dropped++;
      return;
    }
    if (state.pendingSamples === 0) state.pendingAt = at;
    // Copied: callers may reuse their frame buffer.
    state.pending.push(pcm.slice());
    state.pendingSamples += pcm.length;
    if (!state.inFlight) this.#flush(state);
  }

  /** Sends what is pending as one chunk; the decoder acknowledges it once decoded, which releases the next. */
  #flush(state: StreamState): void {
    if (state.pendingSamples === 0) return;
    const samples = new Int16Array(state.pendingSamples);
    let offset = 0;
    for (const frame of state.pending) {
      samples.set(frame, offset);
      offset += frame.length;
    }
    const message: ToDecoder = { type: 'audio', stream: state.id, at: state.pendingAt, samples };
    state.pending = [];
    state.pendingSamples = 0;
    state.inFlight = true;
    this.#send(state.slot, message);
  }

  #end(state: StreamState): void {
    if (state.closed) return;
    this.#flush(state);
    this.#send(state.slot, { type: 'end', stream: state.id, at: state.written });
  }

  #close(state: StreamState): void {
    if (state.closed) return;
    state.closed = true;
    state.detach();
    state.slot.streams.delete(state);
    if (!state.slot.stopping) this.#send(state.slot, { type: 'close', stream: state.id });
  }

  #send(slot: Slot, message: ToDecoder): void {
    // A process that just died cannot take it; its exit handler fails the streams it served.
    if (slot.child.connected) slot.child.send(message, noop);
  }

  #leastBusy(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.#slots) if (!best || slot.streams.size < best.streams.size) best = slot;
    return best;
  }

  #onMessage(slot: Slot, message: FromDecoder): void {
    if (message.type === 'ready' || message.type === 'failed') return;
    const state = [...slot.streams].find((s) => s.id === message.stream);
    if (!state || state.closed) return;
    if (message.type === 'ack') {
      state.inFlight = false;
      this.#flush(state);
    } else if (message.type === 'final') {
      state.req.onTranscript({
        text: message.text,
        final: true,
        confidence: message.confidence,
        startMs: message.startMs,
        endMs: message.endMs,
      });
    } else {
      state.closed = true;
      state.detach();
      slot.streams.delete(state);
      state.req.onError(new SwitchboardError('STT_FAILED', message.detail, message.data));
    }
  }

  #spawn(): Slot {
    const child = startChild();
    let markReady: () => void = noop;
    let failReady: (err: unknown) => void = noop;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    ready.catch(noop);
    let markGone: () => void = noop;
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    const slot: Slot = { child, ready, gone, streams: new Set(), stopping: false };
    this.#slots.add(slot);
    child.on('message', (message: FromDecoder) => {
      if (message.type === 'ready') markReady();
      else if (message.type === 'failed') {
        slot.stopping = true;
        failReady(new SwitchboardError(message.code, message.detail, message.data));
      } else this.#onMessage(slot, message);
    });
    let error: Error | undefined;
    child.on('error', (err) => {
      error = err;
      // Never started: no 'close' follows.
      if (child.pid === undefined) onEnd(null, null);
    });
    let ended = false;
    const onEnd = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      if (ended) return;
      ended = true;
      this.#slots.delete(slot);
      markGone();
      failReady(
        new SwitchboardError('STT_UNAVAILABLE', 'the decoder process ended while starting', {
          exitCode,
          signal,
          error: error?.message,
        }),
      );
      if (slot.stopping || this.#closed) return;
      this.#onCrash(slot, exitCode, signal);
    };
    // 'close' follows 'exit' once the IPC channel has closed too, so every message sent before the end is read.
    child.on('close', onEnd);
    this.#send(slot, { type: 'setup', setup: this.#setup });
    return slot;
  }

  /** Fails the crashed process's streams and starts a replacement, unless decoders keep crashing. */
  #onCrash(slot: Slot, exitCode: number | null, signal: NodeJS.Signals | null): void {
    const err = new SwitchboardError('STT_FAILED', 'the decoder process crashed', { exitCode, signal });
    for (const state of slot.streams) {
      state.closed = true;
      state.detach();
      state.req.onError(err);
    }
    slot.streams.clear();
    const now = performance.now();
    this.#crashTimes = this.#crashTimes.filter((t) => t > now - this.#crashWindowMs);
    this.#crashTimes.push(now);
    if (this.#crashTimes.length <= this.#maxCrashes) this.#spawn();
  }
}

/**
 * Forks one decoder process. Under tsx (this file is .ts) the child is TypeScript too and loads tsx's loader by
 * absolute URL, whatever the working folder; compiled to .js, the sibling .js is forked. Nothing of this
 * process's own execArgv (an inspector port, say) is passed on. 'advanced' serialization carries the audio as
 * Int16Arrays, without base64.
 */
function startChild(): ChildProcess {
  const ts = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(
    new URL(ts ? './pocketsphinx.child.ts' : './pocketsphinx.child.js', import.meta.url),
  );
  return fork(entry, [], {
    execArgv: ts ? ['--import', import.meta.resolve('tsx')] : [],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

function noop(): void {}
