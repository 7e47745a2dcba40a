/**
 * Silero VAD shared by every call in the process. Each call opens a stream and pushes its audio; the stream
 * cuts it into 256-sample chunks (32 ms) and queues them. One timer for all streams runs the pending chunks of
 * every stream in one batched inference (a stream's chunks are sequential through its recurrent state, so a
 * stream gives one chunk per run; a stream that is behind gets further runs in the same tick). Batching is what
 * makes this affordable: per chunk, a run of 32 costs a sixth of a run of one (bench/vad.ts).
 *
 * Most of a call is silence, and a run is most of what a listening call costs, so a stream gates its chunks on
 * level: a chunk quieter than `gateDbfs`, once the stream has been that quiet for a hangover (256 ms), is not
 * run; its listener hears probability 0 for it, in order, and the stream's recurrent state starts afresh, as it
 * does for a new stream. Speech on a phone line is 25 dB or more above the gate, so the model still judges every
 * onset and the tail of every turn; line noise louder than the gate keeps the model running, as without one.
 *
 * A stream's queue is bounded: when a stream falls behind, its oldest chunk is dropped and counted, so a stall
 * costs accuracy for a moment, never memory or latency. If the model cannot load, create() rejects with
 * VAD_UNAVAILABLE and the call falls back to audio/energy-vad.ts.
 */
import { mulawToPcm } from '../../audio/mulaw.ts';
import { systemClock, type Clock, type Timer } from '../../clock.ts';
import { SwitchboardError, isSwitchboardError } from '../../errors.ts';
import {
  SILERO_CHUNK,
  SILERO_CHUNK_MS,
  SILERO_CONTEXT,
  SILERO_ROW,
  SILERO_SAMPLE_RATE,
  SILERO_STATE,
  SileroModel,
} from './silero-model.ts';
import type { SileroModelOptions } from './silero-model.ts';

/** Gets each chunk's speech probability with the audio time the chunk began (ms from the stream's start). */
export type ProbabilityListener = (probability: number, startMs: number, durationMs: number) => void;

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
/** Chunks a stream keeps running after its last chunk over the gate, so the model judges the end of a turn. */
const HANGOVER_CHUNKS = 8;

/** Copies n floats without the view objects subarray would allocate (this runs per stream per chunk). */
function copy(src: Float32Array, from: number, dst: Float32Array, to: number, n: number): void {
  for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
}

export class SileroStream {
  readonly #vad: SileroVad;
  readonly #listener: ProbabilityListener;
  readonly #max: number;
  /** Queued rows (context + chunk), a ring of #max rows, with each row's start sample. */
  readonly #ring: Float32Array;
  readonly #ringStart: Float64Array;
  /** Whether each queued row is under the gate (answered 0, not run); its samples are then not copied. */
  readonly #ringQuiet: Uint8Array;
  #head = 0;
  #count = 0;
  /** A chunk of this stream's is in a run: rows behind it wait for its answer. */
  #inFlight = false;
  /** The row being filled: context in [0, 32), new samples from 32. */
  readonly #current = new Float32Array(SILERO_ROW);
  #fill = 0;
  #samples = 0;
  #startSample = 0;
  /** Sum of squares of the row being filled, and chunks left before quiet ones are gated. */
  #energy = 0;
  #hangover = 0;
  /** Recurrent state carried between runs: h then c (this stream's slices of [2, B, 128]). */
  readonly state = new Float32Array(SILERO_STATE);
  #dropped = 0;
  #closed = false;

  /** @internal Streams come from SileroVad.open. */
  constructor(vad: SileroVad, listener: ProbabilityListener, maxPending: number) {
    this.#vad = vad;
    this.#listener = listener;
    this.#max = maxPending;
    this.#ring = new Float32Array(maxPending * SILERO_ROW);
    this.#ringStart = new Float64Array(maxPending);
    this.#ringQuiet = new Uint8Array(maxPending);
  }

  /** Appends 8 kHz int16 samples (any length). */
  pushPcm(pcm: Int16Array): void {
    for (let i = 0; i < pcm.length && !this.#closed;) i += this.#fillRow(pcm, i);
  }

  /** Appends 8 kHz mu-law bytes (any length). */
  pushMulaw(mulaw: Uint8Array): void {
    this.pushPcm(mulawToPcm(mulaw));
  }

  /** Chunks waiting for a run, and chunks dropped because this stream fell behind. */
  get pending(): number {
    return this.#count;
  }
  get dropped(): number {
    return this.#dropped;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /** Unregisters: queued chunks are discarded and no listener call follows. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#count = 0;
    this.#vad._unregister(this);
  }

  /**
   * Copies samples from `src` at `from` into the row being filled, as floats, up to the row's end; queues the
   * row when full. Returns how many samples it took. One tight loop per frame: this runs for every sample of
   * every call.
   */
  #fillRow(src: Int16Array, from: number): number {
    const row = this.#current;
    const fill = this.#fill;
    if (fill === 0) this.#startSample = this.#samples;
    const n = Math.min(SILERO_CHUNK - fill, src.length - from);
    const at = SILERO_CONTEXT + fill;
    let energy = this.#energy;
    for (let k = 0; k < n; k++) {
      const x = src[from + k]! / 32768;
      row[at + k] = x;
      energy += x * x;
    }
    this.#samples += n;
    this.#fill = fill + n;
    this.#energy = energy;
    if (this.#fill === SILERO_CHUNK) this.#rowFull();
    return n;
  }

  #rowFull(): void {
    this.#fill = 0;
    let quiet = false;
    if (this.#energy >= this.#vad._gateEnergy) this.#hangover = HANGOVER_CHUNKS;
    else if (this.#hangover > 0) this.#hangover--;
    else quiet = true;
    this.#energy = 0;
    // Nothing ahead of a quiet row: answered now, with no queueing and no scan of the streams for it.
    const now = quiet && this.#count === 0 && !this.#inFlight;
    if (!now) this.#enqueue(quiet);
    // The next row's context is the tail of this one (after the row is queued: the copy takes it whole).
    this.#current.copyWithin(0, SILERO_CHUNK, SILERO_ROW);
    if (now) this.#answerQuiet((this.#startSample * 1000) / SILERO_SAMPLE_RATE);
  }

  #enqueue(quiet: boolean): void {
    if (this.#count === this.#max) {
      this.#head = (this.#head + 1) % this.#max;
      this.#count--;
      this.#dropped++;
      this.#vad._dropped++;
    }
    const slot = (this.#head + this.#count) % this.#max;
    if (!quiet) copy(this.#current, 0, this.#ring, slot * SILERO_ROW, SILERO_ROW);
    this.#ringQuiet[slot] = quiet ? 1 : 0;
    this.#ringStart[slot] = this.#startSample;
    this.#count++;
  }

  /**
   * @internal Answers the quiet rows at the head of the queue with 0, in order, and clears the recurrent state
   * they leave behind; returns how many. Stops early if a listener closes the stream.
   */
  _skipQuiet(): number {
    let skipped = 0;
    while (this.#count > 0 && this.#ringQuiet[this.#head] === 1 && !this.#closed) {
      const startMs = (this.#ringStart[this.#head]! * 1000) / SILERO_SAMPLE_RATE;
      this.#head = (this.#head + 1) % this.#max;
      this.#count--;
      skipped++;
      this.state.fill(0);
      this.#listener(0, startMs, SILERO_CHUNK_MS);
    }
    return skipped;
  }

  /** A quiet row with nothing ahead of it: answered 0 at once; a throwing listener is reported, not thrown. */
  #answerQuiet(startMs: number): void {
    this.#vad._gated++;
    this.state.fill(0);
    try {
      this.#listener(0, startMs, SILERO_CHUNK_MS);
    } catch (err) {
      this.#vad._report(err);
    }
  }

  /** @internal Moves the oldest queued row into `dst` at `offset`; returns its start time in ms. */
  _take(dst: Float32Array, offset: number): number {
    this.#inFlight = true;
    const slot = this.#head;
    const from = slot * SILERO_ROW;
    copy(this.#ring, from, dst, offset, SILERO_ROW);
    this.#head = (slot + 1) % this.#max;
    this.#count--;
    return (this.#ringStart[slot]! * 1000) / SILERO_SAMPLE_RATE;
  }

  /** @internal The chunk taken last is answered (or its run failed): rows behind it may be answered now. */
  _landed(): void {
    this.#inFlight = false;
  }

  /** @internal */
  _deliver(probability: number, startMs: number): void {
    this.#inFlight = false;
    this.#listener(probability, startMs, SILERO_CHUNK_MS);
  }
}

export class SileroVad {
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
    for (const stream of scan) {
      try {
        this._gated += stream._skipQuiet();
      } catch (err) {
        this._gated++;
        this.#report(err);
      }
    }
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
