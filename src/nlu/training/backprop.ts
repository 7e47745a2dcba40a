/**
 * The MLP math of training: weight init, the per-example forward and backward pass, and Adam updates.
 *
 * w1 gets lazy Adam: per batch only the rows of features present in the batch are updated (moments, bias
 * correction with the global step, and weight decay alike). Rows of absent features keep their moments
 * untouched. Dense Adam over all inputDims x hidden weights per batch would cost ~100x more on hashed text.
 */
import type { MlpWeights } from '../mlp.ts';
import type { Rng } from '../random.ts';
import type { SparseSet } from './sparse-set.ts';

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPS = 1e-8;
export const EPS_LOG = 1e-12;

/** He init for w1 (ReLU follows it), Xavier for w2, zero biases. */
export function initWeights(rng: Rng, inputDims: number, hidden: number, labels: number): MlpWeights {
  const w1 = new Float32Array(inputDims * hidden);
  const std1 = Math.sqrt(2 / inputDims);
  for (let i = 0; i < w1.length; i++) w1[i] = rng.normal() * std1;
  const w2 = new Float32Array(hidden * labels);
  const limit2 = Math.sqrt(6 / (hidden + labels));
  for (let i = 0; i < w2.length; i++) w2[i] = (rng.next() * 2 - 1) * limit2;
  return { inputDims, hidden, labels, w1, b1: new Float32Array(hidden), w2, b2: new Float32Array(labels) };
}

/** Weights, gradients, Adam moments and scratch for one training run. */
export interface TrainState {
  hidden: number;
  labels: number;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
  // Gradients and Adam moments. gw1 is only ever non-zero on the rows listed in `rows` for the current batch.
  gw1: Float64Array;
  mw1: Float32Array;
  vw1: Float32Array;
  gb1: Float64Array;
  mb1: Float32Array;
  vb1: Float32Array;
  gw2: Float64Array;
  mw2: Float32Array;
  vw2: Float32Array;
  gb2: Float64Array;
  mb2: Float32Array;
  vb2: Float32Array;
  /** Rows of w1 touched in this batch, `rowCount` of them; rowStamp[i] === step marks row i as listed. */
  rows: Uint32Array;
  rowCount: number;
  rowStamp: Int32Array;
  step: number;
  dropout: number;
  inputDropout: number;
  /** The example's input values after input dropout (0 when dropped, else scaled by 1 / keep). */
  inputs: Float64Array;
  /** Target probability of the true label and of every other label, for in-scope examples. */
  onTarget: number;
  offTarget: number;
  pre: Float64Array;
  act: Float64Array;
  /** Per hidden unit, d(act)/d(pre): 0 when inactive or dropped, else the inverted-dropout scale. */
  gate: Float64Array;
  dh: Float64Array;
  logits: Float64Array;
  dlogits: Float64Array;
}

export function newState(
  weights: MlpWeights,
  dropout: number,
  inputDropout: number,
  widest: number,
  smoothing: number,
): TrainState {
  const { inputDims, hidden, labels, w1, b1, w2, b2 } = weights;
  return {
    hidden,
    labels,
    w1,
    b1,
    w2,
    b2,
    gw1: new Float64Array(w1.length),
    mw1: new Float32Array(w1.length),
    vw1: new Float32Array(w1.length),
    gb1: new Float64Array(hidden),
    mb1: new Float32Array(hidden),
    vb1: new Float32Array(hidden),
    gw2: new Float64Array(w2.length),
    mw2: new Float32Array(w2.length),
    vw2: new Float32Array(w2.length),
    gb2: new Float64Array(labels),
    mb2: new Float32Array(labels),
    vb2: new Float32Array(labels),
    rows: new Uint32Array(inputDims),
    rowCount: 0,
    rowStamp: new Int32Array(inputDims).fill(-1),
    step: 0,
    dropout,
    inputDropout,
    inputs: new Float64Array(widest),
    onTarget: 1 - smoothing + smoothing / labels,
    offTarget: smoothing / labels,
    pre: new Float64Array(hidden),
    act: new Float64Array(hidden),
    gate: new Float64Array(hidden),
    dh: new Float64Array(hidden),
    logits: new Float64Array(labels),
    dlogits: new Float64Array(labels),
  };
}

/**
 * Forward and backward pass for example e: adds its gradients (times `scale`) into the state and returns its
 * loss. A function of its own, called per example, so the engine optimizes this hot loop as a unit.
 */
export function accumulate(s: TrainState, set: SparseSet, e: number, scale: number, rng: Rng): number {
  const { hidden, labels, w1, b1, w2, b2, gw1, gb1, gw2, gb2, rows, rowStamp, step, dropout } = s;
  const { pre, act, gate, dh, logits, dlogits, inputDropout, inputs } = s;
  const { indices, values } = set;
  const keep = 1 - dropout;
  const keepInput = 1 - inputDropout;
  let rowCount = s.rowCount;
  const target = set.targets[e]!;
  const from = set.offsets[e]!;
  const to = set.offsets[e + 1]!;
  // Forward, with inverted dropout so inference needs no rescaling. A dropped input's row is not touched.
  for (let j = 0; j < hidden; j++) pre[j] = b1[j]!;
  for (let n = from; n < to; n++) {
    const i = indices[n]!;
    const x = inputDropout === 0 ? values[n]! : rng.next() < keepInput ? values[n]! / keepInput : 0;
    inputs[n - from] = x;
    if (x === 0) continue;
    const row = i * hidden;
    for (let j = 0; j < hidden; j++) pre[j]! += x * w1[row + j]!;
    if (rowStamp[i] !== step) {
      rowStamp[i] = step;
      rows[rowCount++] = i;
    }
  }
  for (let j = 0; j < hidden; j++) {
    const g = pre[j]! <= 0 ? 0 : dropout === 0 ? 1 : rng.next() < keep ? 1 / keep : 0;
    gate[j] = g;
    act[j] = pre[j]! * g;
  }
  for (let k = 0; k < labels; k++) logits[k] = b2[k]!;
  for (let j = 0; j < hidden; j++) {
    const a = act[j]!;
    if (a === 0) continue;
    const row = j * labels;
    for (let k = 0; k < labels; k++) logits[k]! += a * w2[row + k]!;
  }
  let max = -Infinity;
  for (let k = 0; k < labels; k++) if (logits[k]! > max) max = logits[k]!;
  let sum = 0;
  for (let k = 0; k < labels; k++) {
    logits[k] = Math.exp(logits[k]! - max);
    sum += logits[k]!;
  }
  // Backward: softmax + cross-entropy gives probs - target.
  let loss = 0;
  for (let k = 0; k < labels; k++) {
    const p = logits[k]! / sum;
    const t = target >= 0 ? (k === target ? s.onTarget : s.offTarget) : 1 / labels;
    if (t > 0) loss -= t * Math.log(Math.max(p, EPS_LOG));
    dlogits[k] = (p - t) * scale;
    gb2[k]! += dlogits[k]!;
  }
  for (let j = 0; j < hidden; j++) {
    const a = act[j]!;
    const row = j * labels;
    // Inactive and dropped units pass no gradient either way.
    if (a === 0) {
      dh[j] = 0;
      continue;
    }
    let d = 0;
    for (let k = 0; k < labels; k++) {
      const g = dlogits[k]!;
      d += w2[row + k]! * g;
      gw2[row + k]! += a * g;
    }
    dh[j] = d * gate[j]!;
    gb1[j]! += dh[j]!;
  }
  for (let n = from; n < to; n++) {
    const x = inputs[n - from]!;
    if (x === 0) continue;
    const row = indices[n]! * hidden;
    for (let j = 0; j < hidden; j++) gw1[row + j]! += x * dh[j]!;
  }
  s.rowCount = rowCount;
  return loss;
}

/** Applies the batch's accumulated gradients: one Adam step on every parameter (lazily on w1's rows). */
export function updateWeights(net: TrainState, lr: number, weightDecay: number): void {
  const { hidden, labels, w1, b1, w2, b2, gw1, mw1, vw1, gb1, mb1, vb1, gw2, mw2, vw2, gb2, mb2, vb2, rows } =
    net;
  const step = ++net.step;
  const c1 = 1 - ADAM_BETA1 ** step;
  const c2 = 1 - ADAM_BETA2 ** step;
  const stepSize = (lr * Math.sqrt(c2)) / c1;
  const decay = 1 - lr * weightDecay;
  for (let r = 0; r < net.rowCount; r++) {
    const base = rows[r]! * hidden;
    adamStep(w1, gw1, mw1, vw1, base, base + hidden, stepSize, decay);
  }
  adamStep(b1, gb1, mb1, vb1, 0, hidden, stepSize, 1);
  adamStep(w2, gw2, mw2, vw2, 0, w2.length, stepSize, decay);
  adamStep(b2, gb2, mb2, vb2, 0, labels, stepSize, 1);
}

/**
 * One Adam step over w[from..to) with decoupled weight decay (`decay` = 1 - lr * weightDecay; 1 for none),
 * in the usual folded form: the bias corrections live in `stepSize`. Leaves the gradient zeroed.
 */
function adamStep(
  w: Float32Array,
  g: Float64Array,
  m: Float32Array,
  v: Float32Array,
  from: number,
  to: number,
  stepSize: number,
  decay: number,
): void {
  for (let i = from; i < to; i++) {
    const grad = g[i]!;
    g[i] = 0;
    const mi = ADAM_BETA1 * m[i]! + (1 - ADAM_BETA1) * grad;
    const vi = ADAM_BETA2 * v[i]! + (1 - ADAM_BETA2) * grad * grad;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) + ADAM_EPS);
  }
}

export function snapshot(weights: MlpWeights): MlpWeights {
  return {
    ...weights,
    w1: weights.w1.slice(),
    b1: weights.b1.slice(),
    w2: weights.w2.slice(),
    b2: weights.b2.slice(),
  };
}
