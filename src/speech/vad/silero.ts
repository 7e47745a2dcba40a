/**
 * Silero VAD shared by every call in the process. Each call opens a stream and pushes its audio; the stream
 * cuts it into 256-sample chunks (32 ms) and queues them. One timer for all streams runs the pending chunks of
 * every stream in one batched inference (a stream's chunks are sequential through its recurrent state, so a
 * stream gives one chunk per run; a stream that is behind gets further runs in the same tick). Batching is what
 * makes this affordable: per chunk, a run of 32 costs a sixth of a run of one (bench/vad.ts).
 *
 * Streams (silero-stream.ts) gate quiet audio, so the model runs only around speech.
 *
 * A stream's queue is bounded: when a stream falls behind, its oldest chunk is dropped and counted, so a stall
 * costs accuracy for a moment, never memory or latency. If the model cannot load, create() rejects with
 * VAD_UNAVAILABLE and the call falls back to audio/energy-vad.ts.
 */
import { systemClock, type Clock, type Timer } from '../../clock.ts';
import { SwitchboardError, isSwitchboardError } from '../../errors.ts';
import { SILERO_CHUNK, SILERO_CHUNK_MS, SILERO_ROW, SILERO_STATE, SileroModel } from './silero-model.ts';
import type { SileroModelOptions } from './silero-model.ts';
import { SileroStream, copy, type ProbabilityListener, type StreamHost } from './silero-stream.ts';

export type { ProbabilityListener } from './silero-stream.ts';
export { SileroStream } from './silero-stream.ts';

export interface SileroVadOptions extends SileroModelOptions {
  /** How often pending chunks are run. 32 ms (one chunk) unless given; 0 runs no timer (call tick()). */
  intervalMs?: number;
  /** Chunks a stream may have waiting; beyond it the oldest is dropped. 8 (256 ms) unless given. */
  maxPendingChunks?: number;
  /** Failed runs and throwing listeners are reported here (they never stop the other streams). */
  onError?: (err: SwitchboardError) => void;
  /** Runs the batch timer; the system clock unless given (tests drive a manual one). */
  clock?: Clock;
  /**
   * Level (dB relative to full scale, RMS over a chunk) under which quiet chunks are not run; -55 unless given,
   * -Infinity to run every chunk.
   */
  gateDbfs?: number;
}

export interface SileroStats {
  streams: number;
  /** Inferences run, and stream-chunks they covered (chunks / runs is the mean batch). */
  runs: number;
  chunks: number;
  /** Chunks under the gate, answered 0 without a run. */
  gated: number;
  /** Chunks dropped because a stream's queue was full, over all streams ever opened. */
  dropped: number;
  /** Timer ticks skipped because the previous tick was still running. */
  overruns: number;
  failures: number;
}

const HIDDEN = SILERO_STATE / 2;
const DEFAULT_GATE_DBFS = -55;

export class SileroVad implements StreamHost {
  readonly #model: SileroModel;
  readonly #maxPending: number;
  readonly #intervalMs: number;
  readonly #onError: ((err: SwitchboardError) => void) | undefined;
  /** Open streams in the order they are served; each run starts after the last stream the previous one took. */
  readonly #streams: SileroStream[] = [];
  #cursor = 0;
  // Batch buffers sized once for the largest batch.
  readonly #input: Float32Array;
  readonly #state: Float32Array;
  readonly #startMs: Float64Array;
  readonly #batch: SileroStream[] = [];
  readonly #scan: SileroStream[] = [];
  readonly #clock: Clock;
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  #runs = 0;
  #chunks = 0;
  #overruns = 0;
  #failures = 0;
  /** @internal Counted by the streams. */
  _dropped = 0;
  _gated = 0;
  /** @internal The gate as a sum of squares over one chunk of [-1, 1] samples. */
  readonly _gateEnergy: number;

  private constructor(model: SileroModel, options: SileroVadOptions) {
    this.#model = model;
    this.#maxPending = options.maxPendingChunks ?? 8;
    this.#intervalMs = options.intervalMs ?? SILERO_CHUNK_MS;
    this.#onError = options.onError;
    this.#clock = options.clock ?? systemClock;
    this.#input = new Float32Array(model.maxBatch * SILERO_ROW);
    this.#state = new Float32Array(model.maxBatch * SILERO_STATE);
    this.#startMs = new Float64Array(model.maxBatch);
    this._gateEnergy = SILERO_CHUNK * 10 ** ((options.gateDbfs ?? DEFAULT_GATE_DBFS) / 10);
  }

  /** Loads the model. VAD_UNAVAILABLE when it or onnxruntime cannot load: fall back to the energy VAD. */
  static async create(options: SileroVadOptions = {}): Promise<SileroVad> {
    const maxPending = options.maxPendingChunks ?? 8;
    const intervalMs = options.intervalMs ?? SILERO_CHUNK_MS;
    if (!Number.isInteger(maxPending) || maxPending < 1 || maxPending > 1024)
      throw new SwitchboardError('VAD_CONFIG_INVALID', 'maxPendingChunks must be an integer 1..1024', {
        maxPending,
      });
    if (!Number.isFinite(intervalMs) || intervalMs < 0 || intervalMs > 1000)
      throw new SwitchboardError('VAD_CONFIG_INVALID', 'intervalMs must be a number 0..1000', { intervalMs });
    const gateDbfs = options.gateDbfs ?? DEFAULT_GATE_DBFS;
    if (Number.isNaN(gateDbfs) || gateDbfs > 0)
      throw new SwitchboardError(
        'VAD_CONFIG_INVALID',
        'gateDbfs must be a level in dB up to 0, or -Infinity',
        {
          gateDbfs,
        },
      );
    return new SileroVad(await SileroModel.load(options), options);
  }

  /** Registers a call's stream; its listener hears one probability per 32 ms chunk, in order. */
  open(listener: ProbabilityListener): SileroStream {
    if (this.#closed) throw new SwitchboardError('VAD_INFERENCE_FAILED', 'the VAD service is closed');
    const stream = new SileroStream(this, listener, this.#maxPending);
    this.#streams.push(stream);
    if (this.#timer === undefined && this.#intervalMs > 0) {
      // A clock's timer does not keep the process alive: open streams belong to live calls, which do.
      this.#timer = this.#clock.every(this.#intervalMs, () => this.#onTimer());
    }
    return stream;
  }

  get stats(): SileroStats {
    return {
      streams: this.#streams.length,
      runs: this.#runs,
      chunks: this.#chunks,
      gated: this._gated,
      dropped: this._dropped,
      overruns: this.#overruns,
      failures: this.#failures,
    };
  }

  /**
   * Runs every pending chunk now (what the timer does), after any tick in progress. Resolves when all
   * listeners have been called; a failed run is reported to onError and ends the tick.
   */
  async tick(): Promise<void> {
    while (this.#running) await this.#running;
    const run = this.#drain();
    this.#running = run;
    try {
      await run;
    } finally {
      this.#running = undefined;
    }
  }

  /** Stops the timer, closes every stream and frees the model. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const stream of [...this.#streams]) stream.close();
    this.#stopTimer();
    while (this.#running) await this.#running;
    await this.#model.release();
  }

  /** @internal */
  _unregister(stream: SileroStream): void {
    const at = this.#streams.indexOf(stream);
    if (at < 0) return;
    this.#streams.splice(at, 1);
    if (at < this.#cursor) this.#cursor--;
    if (this.#cursor >= this.#streams.length) this.#cursor = 0;
    if (this.#streams.length === 0) this.#stopTimer();
  }

  #stopTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #onTimer(): void {
    if (this.#running) {
      this.#overruns++;
      return;
    }
    this.tick().catch((err: unknown) => this.#report(err));
  }

  async #drain(): Promise<void> {
    const batch = this.#batch;
    const max = this.#model.maxBatch;
    for (;;) {
      batch.length = 0;
      this.#answerQuiet();
      // Round robin from the cursor: when more streams wait than a run takes, the ones a run left out go first
      // in the next, so a saturated VAD drops chunks evenly across calls instead of always from the same ones.
      const streams = this.#streams;
      const n = streams.length;
      let i = 0;
      for (; i < n && batch.length < max; i++) {
        const stream = streams[(this.#cursor + i) % n]!;
        if (stream.pending === 0) continue;
        const b = batch.length;
        this.#startMs[b] = stream._take(this.#input, b * SILERO_ROW);
        batch.push(stream);
      }
      if (n > 0) this.#cursor = (this.#cursor + i) % n;
      const rows = batch.length;
      if (rows === 0) return;
      // state is [2, rows, 128]: h of every row first, then c of every row.
      for (let b = 0; b < rows; b++) {
        const s = batch[b]!.state;
        copy(s, 0, this.#state, b * HIDDEN, HIDDEN);
        copy(s, HIDDEN, this.#state, (rows + b) * HIDDEN, HIDDEN);
      }
      let out: { probabilities: Float32Array; state: Float32Array };
      try {
        out = await this.#model.run(this.#input, this.#state, rows);
      } catch (err) {
        this.#failures++;
        for (const stream of batch) stream._landed();
        batch.length = 0;
        this.#report(err);
        return;
      }
      this.#runs++;
      this.#chunks += rows;
      for (let b = 0; b < rows; b++) {
        const stream = batch[b]!;
        // A stream closed while its chunk was in flight hears nothing more.
        if (stream.closed) {
          stream._landed();
          continue;
        }
        copy(out.state, b * HIDDEN, stream.state, 0, HIDDEN);
        copy(out.state, (rows + b) * HIDDEN, stream.state, HIDDEN, HIDDEN);
        try {
          stream._deliver(out.probabilities[b]!, this.#startMs[b]!);
        } catch (err) {
          this.#report(err);
        }
      }
      batch.length = 0;
    }
  }

  /**
   * Every stream's quiet rows at the head of its queue, answered without a run. Over a copy of the list: a
   * listener may close its stream, or open another.
   */
  #answerQuiet(): void {
    const scan = this.#scan;
    for (const stream of this.#streams) if (stream.pending > 0) scan.push(stream);
    for (const stream of scan) stream._skipQuiet();
    scan.length = 0;
  }

  /** @internal A listener's error, from a stream answering a quiet chunk at once. */
  _report(err: unknown): void {
    this.#report(err);
  }

  #report(err: unknown): void {
    const typed = isSwitchboardError(err)
      ? err
      : new SwitchboardError('VAD_INFERENCE_FAILED', 'a VAD listener threw', {}, { cause: err });
    this.#onError?.(typed);
  }
}
