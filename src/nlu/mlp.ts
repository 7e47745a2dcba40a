/**
 * The intent model's network: one ReLU hidden layer and a softmax output. The weight layout here is shared
 * with the ONNX writer, so it must not change: w1 is inputDims x hidden and w2 is hidden x labels, both
 * row-major.
 *
 *   h = relu(x · w1 + b1); logits = h · w2 + b2; probs = softmax(logits)
 */
import { SwitchboardError } from '../errors.ts';

export interface MlpWeights {
  inputDims: number;
  hidden: number;
  labels: number;
  /** inputDims x hidden, row-major: w1[i * hidden + j]. */
  w1: Float32Array;
  /** hidden */
  b1: Float32Array;
  /** hidden x labels, row-major: w2[j * labels + k]. */
  w2: Float32Array;
  /** labels */
  b2: Float32Array;
}

// Reused between calls so inference allocates nothing but its result; forward passes are synchronous.
let scratch = new Float64Array(0);
let logitScratch = new Float64Array(0);

function badInput(detail: string): never {
  throw new SwitchboardError('NLU_INPUT_INVALID', detail);
}

/** Throws NLU_MODEL_INVALID unless every array has the length its dimensions say. */
/**
 * Throws NLU_MODEL_INVALID (naming the field) unless the sizes are positive integers, every array is a
 * Float32Array of its shape, and every value is finite: a diverged trainer yields NaN or Infinity, and a model
 * that answers NaN for everything must not be written or served.
 */
export function checkWeights(weights: MlpWeights): void {
  for (const field of ['inputDims', 'hidden', 'labels'] as const) {
    const n = weights[field];
    if (!Number.isSafeInteger(n) || n < 1) invalidWeights(field, 'must be a positive integer');
  }
  const expected = {
    w1: weights.inputDims * weights.hidden,
    b1: weights.hidden,
    w2: weights.hidden * weights.labels,
    b2: weights.labels,
  } as const;
  for (const field of ['w1', 'b1', 'w2', 'b2'] as const) {
    const a = weights[field];
    if (!(a instanceof Float32Array)) invalidWeights(field, 'must be a Float32Array');
    if (a.length !== expected[field]) {
      invalidWeights(field, `must have ${expected[field]} values, has ${a.length}`);
    }
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i]!)) invalidWeights(field, `has a non-finite value at ${i}`);
    }
  }
}

function invalidWeights(field: string, detail: string): never {
  throw new SwitchboardError('NLU_MODEL_INVALID', `${field} ${detail}`, { field });
}

function output(weights: MlpWeights, out: Float32Array | undefined): Float32Array {
  if (out === undefined) return new Float32Array(weights.labels);
  if (out.length !== weights.labels) badInput('out must have one entry per label');
  return out;
}

function hiddenScratch(hidden: number, b1: Float32Array): Float64Array {
  if (scratch.length < hidden) scratch = new Float64Array(hidden);
  for (let j = 0; j < hidden; j++) scratch[j] = b1[j]!;
  return scratch;
}

/** ReLU, the output layer and a numerically stable softmax, from pre-activations in `h`. */
function finish(weights: MlpWeights, h: Float64Array, out: Float32Array): Float32Array {
  const { hidden, labels, w2, b2 } = weights;
  if (logitScratch.length < labels) logitScratch = new Float64Array(labels);
  const logits = logitScratch;
  for (let k = 0; k < labels; k++) logits[k] = b2[k]!;
  for (let j = 0; j < hidden; j++) {
    const a = h[j]!;
    if (a <= 0) continue;
    const row = j * labels;
    for (let k = 0; k < labels; k++) logits[k]! += a * w2[row + k]!;
  }
  let max = -Infinity;
  for (let k = 0; k < labels; k++) if (logits[k]! > max) max = logits[k]!;
  let sum = 0;
  for (let k = 0; k < labels; k++) {
    const e = Math.exp(logits[k]! - max);
    logits[k] = e;
    sum += e;
  }
  for (let k = 0; k < labels; k++) out[k] = logits[k]! / sum;
  return out;
}

/** Label probabilities for a dense input of length inputDims; reuses `out` when given. */
export function forward(weights: MlpWeights, x: Float32Array, out?: Float32Array): Float32Array {
  const { inputDims, hidden, w1 } = weights;
  if (x.length !== inputDims) badInput('input must have inputDims entries');
  const result = output(weights, out);
  const h = hiddenScratch(hidden, weights.b1);
  for (let i = 0; i < inputDims; i++) {
    const v = x[i]!;
    if (v === 0) continue; // hashed features are sparse: most rows of w1 contribute nothing
    const row = i * hidden;
    for (let j = 0; j < hidden; j++) h[j]! += v * w1[row + j]!;
  }
  return finish(weights, h, result);
}

/** The same probabilities as {@link forward} from a sparse input (indices into 0..inputDims-1). */
export function forwardSparse(
  weights: MlpWeights,
  indices: Uint32Array,
  values: Float32Array,
  out?: Float32Array,
): Float32Array {
  const { inputDims, hidden, w1 } = weights;
  if (indices.length !== values.length) badInput('indices and values must have the same length');
  const result = output(weights, out);
  const h = hiddenScratch(hidden, weights.b1);
  for (let n = 0; n < indices.length; n++) {
    const i = indices[n]!;
    if (i >= inputDims) badInput('input index must be below inputDims');
    const v = values[n]!;
    const row = i * hidden;
    for (let j = 0; j < hidden; j++) h[j]! += v * w1[row + j]!;
  }
  return finish(weights, h, result);
}
