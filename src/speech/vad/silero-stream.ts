/**
 * One call's stream into the shared Silero VAD (silero.ts): cuts the call's audio into 256-sample chunks, each
 * after the 32 samples before it (the model's context), and queues them for the VAD's batched runs, with a bound:
 * past it the oldest chunk is dropped and counted.
 *
 * Most of a call is silence, and a run is most of what a listening call costs, so a stream gates its chunks on
 * level: a chunk quieter than the VAD's gate, once the stream has been that quiet for a hangover (256 ms), is not
 * run; its listener hears probability 0 for it, in order, and the stream's recurrent state starts afresh, as it
 * does for a new stream. Speech on a phone line is 25 dB or more above the gate, so the model still judges every
 * onset and the tail of every turn; line noise louder than the gate keeps the model running, as without one.
 */
import { mulawToPcm } from '../../audio/mulaw.ts';
import {
  SILERO_CHUNK,
  SILERO_CHUNK_MS,
  SILERO_CONTEXT,
  SILERO_ROW,
  SILERO_SAMPLE_RATE,
  SILERO_STATE,
} from './silero-model.ts';

/** Gets each chunk's speech probability with the audio time the chunk began (ms from the stream's start). */
export type ProbabilityListener = (probability: number, startMs: number, durationMs: number) => void;

/** What a stream needs of the VAD that runs it. */
export interface StreamHost {
  /** The gate as a sum of squares over one chunk of [-1, 1] samples. */
  readonly _gateEnergy: number;
  /** Counters over every stream: chunks gated, chunks dropped. */
  _gated: number;
  _dropped: number;
  /** A listener's error from a quiet chunk answered at once. */
  _report(err: unknown): void;
  _unregister(stream: SileroStream): void;
}

/** Chunks a stream keeps running after its last chunk over the gate, so the model judges the end of a turn. */
const HANGOVER_CHUNKS = 8;

/** Copies n floats without the view objects subarray would allocate (this runs per stream per chunk). */
export function copy(src: Float32Array, from: number, dst: Float32Array, to: number, n: number): void {
  for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
}

export class SileroStream {
  readonly #vad: StreamHost;
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
  constructor(vad: StreamHost, listener: ProbabilityListener, maxPending: number) {
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

  /** @internal Answers the quiet rows at the head of the queue, in order; stops if a listener closes the stream. */
  _skipQuiet(): void {
    while (this.#count > 0 && this.#ringQuiet[this.#head] === 1 && !this.#closed) {
      const startMs = (this.#ringStart[this.#head]! * 1000) / SILERO_SAMPLE_RATE;
      this.#head = (this.#head + 1) % this.#max;
      this.#count--;
      this.#answerQuiet(startMs);
    }
  }

  /** A quiet row: answered 0, counted, and the recurrent state cleared; a throwing listener is reported. */
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
