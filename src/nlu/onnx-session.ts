/**
 * Runs an intent MLP written by {@link mlpToOnnx} (or any model with the same contract: one float input
 * "features" [batch, inputDims], one float output "probabilities" [batch, labels]) in onnxruntime.
 *
 * onnxruntime-node is imported on first load, not at module load: flow/ imports nlu/, and most processes
 * (validation, the CLI, tests) should not pay for loading the native runtime they never use.
 */
import { readFile } from 'node:fs/promises';
import type * as Ort from 'onnxruntime-node';
import { SwitchboardError, isSwitchboardError } from '../errors.ts';
import { ONNX_INPUT, ONNX_OUTPUT } from './onnx-writer.ts';

export interface IntentSessionOptions {
  /** Threads for one inference (intraOpNumThreads). Default 1: a call needs one small row, not a pool. */
  threads?: number;
}

const MAX_THREADS = 64;

let runtime: Promise<typeof Ort> | undefined;

export function loadRuntime(): Promise<typeof Ort> {
  runtime ??= import('onnxruntime-node').catch((err: unknown) => {
    runtime = undefined;
    throw new SwitchboardError(
      'NLU_MODEL_INVALID',
      'onnxruntime-node could not be loaded',
      {},
      { cause: err },
    );
  });
  return runtime;
}

function invalid(detail: string, cause?: unknown, data: Record<string, unknown> = {}): SwitchboardError {
  return new SwitchboardError('NLU_MODEL_INVALID', detail, data, cause === undefined ? undefined : { cause });
}

/** [batch, size] with size fixed, or throws: the session needs both dimensions to check its inputs. */
function matrixWidth(meta: Ort.InferenceSession.ValueMetadata | undefined, name: string): number {
  if (!meta?.isTensor || meta.type !== 'float32') throw invalid(`${name} must be a float32 tensor`);
  const width = meta.shape[1];
  if (meta.shape.length !== 2 || typeof width !== 'number' || !Number.isInteger(width) || width < 1)
    throw invalid(`${name} must have shape [batch, n] with a fixed n`, undefined, { shape: [...meta.shape] });
  return width;
}

export class IntentSession {
  readonly inputDims: number;
  readonly labels: number;
  private readonly ort: typeof Ort;
  private session: Ort.InferenceSession | undefined;

  private constructor(ort: typeof Ort, session: Ort.InferenceSession, inputDims: number, labels: number) {
    this.ort = ort;
    this.session = session;
    this.inputDims = inputDims;
    this.labels = labels;
  }

  /**
   * Loads model bytes, or a model file by path. Corrupt, truncated or unreadable models and models that do
   * not follow the features -> probabilities contract reject with NLU_MODEL_INVALID; bad options with
   * NLU_CONFIG_INVALID.
   */
  static async load(
    modelBytesOrPath: Uint8Array | string,
    options: IntentSessionOptions = {},
  ): Promise<IntentSession> {
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)
      throw new SwitchboardError('NLU_CONFIG_INVALID', `threads must be an integer 1..${MAX_THREADS}`, {
        field: 'threads',
      });

    let bytes: Uint8Array;
    if (typeof modelBytesOrPath === 'string') {
      try {
        bytes = await readFile(modelBytesOrPath);
      } catch (err) {
        throw invalid('model file could not be read', err, { path: modelBytesOrPath });
      }
    } else {
      bytes = modelBytesOrPath;
    }
    if (bytes.length === 0) throw invalid('model is empty');

    const ort = await loadRuntime();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Errors reach the caller as a typed error; the runtime's own warnings would only be noise in the log.
        logSeverityLevel: 3,
      });
    } catch (err) {
      throw invalid('onnxruntime rejected the model', err, { bytes: bytes.length });
    }

    try {
      if (session.inputNames.length !== 1 || session.inputNames[0] !== ONNX_INPUT)
        throw invalid(`model must have exactly one input named "${ONNX_INPUT}"`);
      if (!session.outputNames.includes(ONNX_OUTPUT))
        throw invalid(`model has no output named "${ONNX_OUTPUT}"`);
      const inputDims = matrixWidth(session.inputMetadata[0], ONNX_INPUT);
      const labels = matrixWidth(
        session.outputMetadata.find((m) => m.name === ONNX_OUTPUT),
        ONNX_OUTPUT,
      );
      return new IntentSession(ort, session, inputDims, labels);
    } catch (err) {
      await session.release();
      throw isSwitchboardError(err) ? err : invalid('model metadata could not be read', err);
    }
  }

  /** Class probabilities for one feature row of length inputDims. */
  async run(features: Float32Array): Promise<Float32Array> {
    return this.runBatch(features, 1);
  }

  /** Probabilities for `rows` feature rows laid out row-major; the result is rows x labels, row-major. */
  async runBatch(features: Float32Array, rows: number): Promise<Float32Array> {
    const session = this.session;
    if (session === undefined) throw new SwitchboardError('NLU_INFERENCE_FAILED', 'session was released');
    if (!(features instanceof Float32Array))
      throw new SwitchboardError('NLU_INPUT_INVALID', 'features must be a Float32Array');
    if (!Number.isSafeInteger(rows) || rows < 1)
      throw new SwitchboardError('NLU_INPUT_INVALID', 'rows must be a positive integer', { rows });
    if (features.length !== rows * this.inputDims)
      throw new SwitchboardError('NLU_INPUT_INVALID', `expected ${rows} x ${this.inputDims} features`, {
        length: features.length,
        rows,
        inputDims: this.inputDims,
      });

    let output: Ort.Tensor | undefined;
    try {
      const input = new this.ort.Tensor('float32', features, [rows, this.inputDims]);
      output = (await session.run({ [ONNX_INPUT]: input }))[ONNX_OUTPUT];
    } catch (err) {
      throw new SwitchboardError(
        'NLU_INFERENCE_FAILED',
        'onnxruntime failed to run the model',
        {},
        { cause: err },
      );
    }
    if (output?.type !== 'float32' || output.data.length !== rows * this.labels)
      throw new SwitchboardError('NLU_INFERENCE_FAILED', 'model output has an unexpected type or size');
    return output.data as Float32Array;
  }

  /** Frees the native session; later runs reject with NLU_INFERENCE_FAILED. Safe to call twice. */
  async release(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.release();
  }
}
