/**
 * Offline speech-to-text with pocketsphinx (CMU, BSD licence; Debian's libpocketsphinx3 and pocketsphinx-en-us)
 * called through koffi. Decoding is synchronous and CPU-heavy, and native code can crash, so it runs in a small
 * pool of child processes (pocketsphinx.child.ts), each holding one decoder warmed up at start; each stream is
 * assigned the least busy one. Each ListenContext becomes a search (a grammar for a closed question, a bigram
 * model of the flow's domain for an open one), built once per decoder. A crashed decoder process fails its
 * streams with STT_FAILED and is replaced (the shared pool, ../child-pool.ts, supervises the processes); the
 * server and its other calls carry on.
 */
import type { ChildProcess } from 'node:child_process';
import { SAMPLE_RATE } from '../../audio/frames.ts';
import type { Clock } from '../../clock.ts';
import { SwitchboardError } from '../../errors.ts';
import { ChildPool, type ChildEnd, type PoolChild } from '../child-pool.ts';
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
import { forkDecoder } from './pocketsphinx-fork.ts';
import type { SearchSpec } from './search.ts';
import { searchSpec } from './search.ts';

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
  /**
   * Audio a stream may have waiting for its decoder, in ms; past it the oldest waiting frames are dropped, so
   * what the decoder hears when it catches up is the end of the turn. 10 s unless given.
   */
  maxBufferedMs?: number;
  /**
   * While other streams share its decoder, the audio a stream gathers before it starts sending an utterance,
   * unless the utterance ends first. A decoder serves one utterance at a time from its first audio to its end, so
   * streaming each frame as it comes holds it for the utterance's real-time length; a short turn sent whole holds
   * it only while decoding (tens of ms). A stream alone on its decoder streams at once, which gives the quickest
   * final transcript. 3 s unless given; 0 always streams from the first frame.
   */
  batchMs?: number;
  /** An utterance is finalized by the engine after this long without endUtterance(); 30 s unless given. */
  maxUtteranceMs?: number;
  /**
   * Restart intensity: no decoder process is restarted once this many crashed within `crashWindowMs`. 5 and
   * 60 s unless given.
   */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** Times the restart intensity and the grace before a stuck process is killed; the system clock unless given. */
  clock?: Clock;
}

interface StreamState {
  readonly id: number;
  readonly req: RecognitionRequest;
  readonly spec: SearchSpec;
  slot: PoolChild;
  /** Frames waiting for the decoder, from `pendingHead` on (those before it were dropped). */
  pending: Int16Array[];
  pendingHead: number;
  pendingSamples: number;
  /** 8 kHz index of the first pending sample. */
  pendingAt: number;
  inFlight: boolean;
  /** The current utterance has reached the decoder: later audio streams on as it comes. */
  started: boolean;
  /** Samples written since the stream started, dropped ones included, so times stay those of the call. */
  written: number;
  dropped: number;
  closed: boolean;
  detach: () => void;
}

/** A recognition stream of this engine: RecognitionStream plus its audio waiting and dropped. */
export interface PocketsphinxStream extends RecognitionStream {
  /** Frames dropped because the decoder was behind (the oldest waiting ones). */
  readonly droppedFrames: number;
  /** Audio waiting for the decoder, in ms (at most maxBufferedMs). */
  readonly bufferedMs: number;
}

let processesOf: (engine: PocketsphinxStt) => ChildProcess[];

/** Test-only: the engine's decoder processes, so a test can crash one. */
export function pocketsphinxProcessesForTest(engine: PocketsphinxStt): ChildProcess[] {
  return processesOf(engine);
}

export class PocketsphinxStt implements SttEngine {
  readonly name = 'pocketsphinx';
  readonly #maxBuffered: number;
  readonly #batch: number;
  readonly #pool: ChildPool<FromDecoder>;
  /** The streams each decoder process serves. */
  readonly #streams = new Map<PoolChild, Set<StreamState>>();
  readonly #specs = new WeakMap<ListenContext, SearchSpec>();
  #nextId = 1;
  #dropped = 0;

  static {
    processesOf = (engine) => engine.#pool.children.map((child) => child.process);
  }

  private constructor(setup: DecoderSetup, decoders: number, options: PocketsphinxOptions) {
    const maxBufferedMs = options.maxBufferedMs ?? 10_000;
    if (!(maxBufferedMs >= 20) || !Number.isFinite(maxBufferedMs)) {
      throw new SwitchboardError('CONFIG_INVALID', 'pocketsphinx maxBufferedMs must be at least 20', {
        maxBufferedMs,
      });
    }
    this.#maxBuffered = Math.round((maxBufferedMs * SAMPLE_RATE) / 1000);
    const batchMs = options.batchMs ?? 3000;
    if (!(batchMs >= 0) || !Number.isFinite(batchMs)) {
      throw new SwitchboardError('CONFIG_INVALID', 'pocketsphinx batchMs must be a number >= 0', { batchMs });
    }
    this.#batch = Math.min(this.#maxBuffered, Math.round((batchMs * SAMPLE_RATE) / 1000));
    this.#pool = new ChildPool<FromDecoder>({
      size: decoders,
      maxCrashes: options.maxCrashes ?? 5,
      crashWindowMs: options.crashWindowMs ?? 60_000,
      ...(options.clock ? { clock: options.clock } : {}),
      fork: () => {
        const child = forkDecoder();
        const setupMessage: ToDecoder = { type: 'setup', setup };
        child.send(setupMessage, noop);
        return child;
      },
      onMessage: (child, message) => this.#onMessage(child, message),
      onCrash: (child, end) => this.#onCrash(child, end),
      endError: (end) =>
        new SwitchboardError('STT_UNAVAILABLE', 'the decoder process ended while starting', {
          exitCode: end.exitCode,
          signal: end.signal,
          error: end.error?.message,
        }),
      exhaustedError: (crashes, windowMs) =>
        new SwitchboardError('STT_FAILED', 'decoder processes keep crashing; not restarting them for now', {
          crashes,
          windowMs,
        }),
      closedError: () => new SwitchboardError('STT_FAILED', 'engine is closed'),
    });
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
    const engine = new PocketsphinxStt(setup, decoders, options);
    try {
      await engine.#pool.fill();
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
      slot: slot as PoolChild,
      pending: [],
      pendingHead: 0,
      pendingSamples: 0,
      pendingAt: 0,
      inFlight: false,
      started: false,
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
      get bufferedMs() {
        return (state.pendingSamples * 1000) / SAMPLE_RATE;
      },
    };
    const closed = this.#pool.closed;
    if (closed || !slot) {
      state.closed = true;
      const err = new SwitchboardError('STT_FAILED', closed ? 'engine is closed' : 'no decoder is running');
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
    this.#streamsOf(slot).add(state);
    this.#send(slot, { type: 'open', stream: state.id, spec });
    return handle;
  }

  async close(): Promise<void> {
    const closing = this.#pool.close();
    for (const streams of this.#streams.values()) for (const state of streams) this.#close(state);
    this.#streams.clear();
    await closing;
  }

  #write(state: StreamState, pcm: Int16Array): void {
    if (state.closed) return;
    const at = state.written;
    state.written += pcm.length;
    if (pcm.length > this.#maxBuffered) {
      state.dropped++;
      this.#dropped++;
      return;
    }
    if (state.pendingSamples === 0) state.pendingAt = at;
    // The decoder is behind: its oldest waiting audio goes, the stream keeps up with the caller.
    while (state.pendingSamples + pcm.length > this.#maxBuffered) {
      const oldest = state.pending[state.pendingHead]!;
      state.pending[state.pendingHead] = EMPTY;
      state.pendingHead++;
      state.pendingSamples -= oldest.length;
      state.pendingAt += oldest.length;
      state.dropped++;
      this.#dropped++;
    }
    // Copied: callers may reuse their frame buffer.
    state.pending.push(pcm.slice());
    state.pendingSamples += pcm.length;
    this.#sendPending(state);
  }

  /** Sends what is pending unless a chunk is in flight or a new utterance is still gathering its batch. */
  #sendPending(state: StreamState): void {
    if (state.inFlight || state.pendingSamples === 0) return;
    if (state.started || state.pendingSamples >= this.#batch || this.#alone(state)) this.#flush(state);
  }

  /** Sends what is pending as one chunk; the decoder acknowledges it once decoded, which releases the next. */
  #flush(state: StreamState): void {
    if (state.pendingSamples === 0) return;
    const samples = new Int16Array(state.pendingSamples);
    let offset = 0;
    for (let i = state.pendingHead; i < state.pending.length; i++) {
      const frame = state.pending[i]!;
      samples.set(frame, offset);
      offset += frame.length;
    }
    const message: ToDecoder = { type: 'audio', stream: state.id, at: state.pendingAt, samples };
    state.pending = [];
    state.pendingHead = 0;
    state.pendingSamples = 0;
    state.inFlight = true;
    state.started = true;
    this.#send(state.slot, message);
  }

  #end(state: StreamState): void {
    if (state.closed) return;
    this.#flush(state);
    state.started = false;
    this.#send(state.slot, { type: 'end', stream: state.id, at: state.written });
  }

  /** No other stream (turn under way) shares this stream's decoder: streaming to it holds up nobody. */
  #alone(state: StreamState): boolean {
    return (this.#streams.get(state.slot)?.size ?? 0) <= 1;
  }

  #close(state: StreamState): void {
    if (state.closed) return;
    state.closed = true;
    state.detach();
    this.#streams.get(state.slot)?.delete(state);
    if (!state.slot.stopping) this.#send(state.slot, { type: 'close', stream: state.id });
  }

  /** A process that just died cannot take it; the pool reports its end, which fails the streams it served. */
  #send(slot: PoolChild, message: ToDecoder): void {
    slot.send(message);
  }

  #streamsOf(slot: PoolChild): Set<StreamState> {
    let streams = this.#streams.get(slot);
    if (!streams) this.#streams.set(slot, (streams = new Set()));
    return streams;
  }

  #leastBusy(): PoolChild | undefined {
    let best: PoolChild | undefined;
    let load = Infinity;
    for (const slot of this.#pool.children) {
      const streams = this.#streams.get(slot)?.size ?? 0;
      if (streams < load) [best, load] = [slot, streams];
    }
    return best;
  }

  #onMessage(slot: PoolChild, message: FromDecoder): void {
    if (message.type === 'ready' || message.type === 'failed') return;
    const streams = this.#streams.get(slot);
    const state = streams && [...streams].find((s) => s.id === message.stream);
    if (!state || state.closed) return;
    if (message.type === 'ack') {
      state.inFlight = false;
      this.#sendPending(state);
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
      streams.delete(state);
      state.req.onError(new SwitchboardError('STT_FAILED', message.detail, message.data));
    }
  }

  /** Fails the crashed process's streams and starts a replacement, unless decoders keep crashing. */
  #onCrash(slot: PoolChild, end: ChildEnd): void {
    const err = new SwitchboardError('STT_FAILED', 'the decoder process crashed', {
      exitCode: end.exitCode,
      signal: end.signal,
    });
    const streams = this.#streams.get(slot) ?? new Set();
    this.#streams.delete(slot);
    for (const state of streams) {
      state.closed = true;
      state.detach();
      state.req.onError(err);
    }
    try {
      this.#pool.start();
    } catch {
      // Restart intensity reached, or no process could start: the decoders left serve the calls, or none does.
    }
  }
}

function noop(): void {}

const EMPTY = new Int16Array(0);
