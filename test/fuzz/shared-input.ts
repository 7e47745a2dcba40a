/**
 * The input a fuzz worker is running, in memory the main thread shares: a counter bumped per input, the
 * input's length, then its bytes. A loop in synchronous code cannot be interrupted from inside its thread, so
 * the main thread watches the counter, and when it stops moving, the input kept here is the one that hangs.
 */

/** Bytes before the input: the counter and the length, as Int32. */
const HEADER = 8;

export class SharedInput {
  readonly buffer: SharedArrayBuffer;
  readonly #header: Int32Array;
  readonly #bytes: Uint8Array;

  /** New shared memory for inputs of up to `capacity` bytes, or a view of `buffer` made by another thread. */
  constructor(source: number | SharedArrayBuffer) {
    this.buffer = typeof source === 'number' ? new SharedArrayBuffer(HEADER + source) : source;
    this.#header = new Int32Array(this.buffer, 0, 2);
    this.#bytes = new Uint8Array(this.buffer, HEADER);
  }

  /** Keeps `input` (cut to the capacity) as the one running now. */
  write(input: Uint8Array): void {
    const length = Math.min(input.length, this.#bytes.length);
    this.#bytes.set(input.subarray(0, length));
    Atomics.store(this.#header, 1, length);
    Atomics.add(this.#header, 0, 1);
  }

  /** Inputs started so far. */
  get count(): number {
    return Atomics.load(this.#header, 0);
  }

  /** A copy of the input running now. */
  read(): Buffer {
    return Buffer.from(this.#bytes.subarray(0, Atomics.load(this.#header, 1)));
  }
}
