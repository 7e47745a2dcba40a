/** Measures a model on a set of examples and picks its out-of-scope threshold from those measurements. */
import { forwardSparse } from '../mlp.ts';
import type { MlpWeights } from '../mlp.ts';
import { EPS_LOG } from './backprop.ts';
import { rowOf } from './sparse-set.ts';
import type { SparseSet } from './sparse-set.ts';

/** Loss of one example's probabilities: cross-entropy to its label, or to uniform for out-of-scope. */
function exampleLoss(probs: Float32Array, target: number): number {
  if (target >= 0) return -Math.log(Math.max(probs[target]!, EPS_LOG));
  let sum = 0;
  for (let k = 0; k < probs.length; k++) sum -= Math.log(Math.max(probs[k]!, EPS_LOG));
  return sum / probs.length;
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  /** Top probability per example, and whether the top label was right (always false for out-of-scope). */
  confidences: Float64Array;
  correct: Uint8Array;
}

export function evaluate(weights: MlpWeights, set: SparseSet, members: Uint32Array): Evaluation {
  const probs = new Float32Array(weights.labels);
  const confidences = new Float64Array(members.length);
  const correct = new Uint8Array(members.length);
  let loss = 0;
  let inScope = 0;
  let right = 0;
  for (let m = 0; m < members.length; m++) {
    const e = members[m]!;
    const { indices, values } = rowOf(set, e);
    forwardSparse(weights, indices, values, probs);
    let best = 0;
    for (let k = 1; k < probs.length; k++) if (probs[k]! > probs[best]!) best = k;
    confidences[m] = probs[best]!;
    const target = set.targets[e]!;
    if (target < 0) continue;
    inScope++;
    loss += exampleLoss(probs, target);
    if (best === target) {
      correct[m] = 1;
      right++;
    }
  }
  return {
    loss: inScope ? loss / inScope : 0,
    accuracy: inScope ? right / inScope : 0,
    confidences,
    correct,
  };
}

/** One utterance's top confidence, whether its top label was right, and whether it is out of scope. */
export interface Scored {
  conf: number;
  correct: boolean;
  oos: boolean;
}

/**
 * With out-of-scope examples: the threshold maximizing in-scope accuracy (right and confident enough) plus
 * recallWeight times out-of-scope recall (below the threshold). Of the best range of thresholds the midpoint
 * is taken, so the cut sits between the two confidences it separates rather than on one of them.
 */
export function calibrate(
  evaluation: Evaluation,
  set: SparseSet,
  members: Uint32Array,
  recallWeight: number,
): number {
  const scored: Scored[] = [];
  for (let m = 0; m < members.length; m++) {
    const oos = set.targets[members[m]!]! < 0;
    scored.push({ conf: evaluation.confidences[m]!, correct: !oos && evaluation.correct[m] === 1, oos });
  }
  return chooseThreshold(scored, recallWeight);
}

/**
 * The threshold for scored utterances (see {@link calibrate}). Without out-of-scope or without in-scope ones:
 * the 5th percentile of the correct in-scope confidences.
 */
export function chooseThreshold(scored: readonly Scored[], recallWeight: number): number {
  let inScope = 0;
  let outOfScope = 0;
  const correctConf: number[] = [];
  for (const s of scored) {
    if (s.oos) outOfScope++;
    else {
      inScope++;
      if (s.correct) correctConf.push(s.conf);
    }
  }
  if (outOfScope === 0 || inScope === 0) {
    if (correctConf.length === 0) return 0;
    correctConf.sort((a, b) => a - b);
    return correctConf[Math.floor(0.05 * (correctConf.length - 1))]!;
  }
  // Sweep candidate thresholds upward over every distinct confidence: at threshold t, correct in-scope
  // examples with confidence >= t count, and out-of-scope examples with confidence < t count.
  const events = [...scored].sort((a, b) => a.conf - b.conf);
  let accepted = correctConf.length; // correct in-scope at or above the threshold
  let rejected = 0; // out-of-scope below the threshold
  let bestScore = accepted / inScope;
  let bestLow = 0;
  let bestHigh = events[0]!.conf;
  for (let i = 0; i < events.length;) {
    const conf = events[i]!.conf;
    while (i < events.length && events[i]!.conf === conf) {
      if (events[i]!.correct) accepted--;
      if (events[i]!.oos) rejected++;
      i++;
    }
    // Threshold anywhere in (conf, next] now rejects everything up to and including conf.
    const next = i < events.length ? events[i]!.conf : 1;
    const score = accepted / inScope + (recallWeight * rejected) / outOfScope;
    if (score > bestScore) {
      bestScore = score;
      bestLow = conf;
      bestHigh = next;
    }
  }
  return (bestLow + bestHigh) / 2;
}
