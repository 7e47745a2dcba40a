/**
 * Trains the intent model: hashed sparse features ({@link Featurizer}) into a one-hidden-layer MLP
 * ({@link MlpWeights}), with Adam, decoupled weight decay, dropout on the hidden layer (and optionally on the
 * input features), optional label smoothing, and early stopping on validation loss.
 *
 * Choices worth knowing:
 * - Out-of-scope examples are not a class. Those held out calibrate the threshold; the rest are trained toward
 *   the uniform distribution over intents, which teaches the model to be unsure about that kind of text.
 *   Fewer than 5 out-of-scope examples are all held out for calibration.
 * - w1 gets lazy Adam: per batch only the rows of features present in the batch are updated (moments, bias
 *   correction with the global step, and weight decay alike). Rows of absent features keep their moments
 *   untouched. Dense Adam over all inputDims x hidden weights per batch would cost ~100x more on hashed text.
 * - The validation set is held out of the training data (validationSplit per intent), or given explicitly
 *   (options.validation, e.g. a benchmark's dev split): then all the training data is trained on.
 * - With no validation examples at all (every intent under 5 examples, or validationSplit 0), early stopping
 *   watches the training loss and the validation metrics and threshold are measured on the training set.
 * - Training is deterministic: the only randomness (init, split, shuffles, dropout) comes from a seeded Rng.
 */
import { createHash } from 'node:crypto';

import { SwitchboardError } from '../errors.ts';
import { DEFAULT_FEATURIZER, Featurizer, validateFeaturizerConfig } from './featurizer.ts';
import type { FeaturizerConfig } from './featurizer.ts';
import { checkWeights, forwardSparse } from './mlp.ts';
import type { MlpWeights } from './mlp.ts';
import { normalizeUtterance } from './normalize.ts';
import { Rng } from './random.ts';

export interface TrainingOptions {
  /** Hidden units, default 128. */
  hidden?: number;
  /** Maximum epochs, default 60. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Adam step size, default 0.003. */
  learningRate?: number;
  /** Decoupled (AdamW) L2 decay, default 1e-4. */
  weightDecay?: number;
  /** Dropout on the hidden layer while training, default 0.2. */
  dropout?: number;
  /** Dropout on the input features (each hashed n-gram of an example) while training, default 0. */
  inputDropout?: number;
  /** Fraction held out per intent, default 0.1; at least 1 example from each intent with 5 or more. */
  validationSplit?: number;
  /**
   * Label smoothing for in-scope targets: the true label gets 1 - labelSmoothing and the rest is spread evenly
   * over all labels. Default 0.
   */
  labelSmoothing?: number;
  /**
   * How much out-of-scope recall weighs against in-scope accuracy when the threshold is calibrated: the
   * threshold maximizes accuracy + recallWeight * recall on validation. Default 1; below 1 favours
   * answering (fewer in-scope utterances rejected), above 1 favours rejecting.
   */
  recallWeight?: number;
  /** Weight of each out-of-scope training example's loss (toward uniform) against an in-scope one's, default 1. */
  outOfScopeLossWeight?: number;
  /** Epochs without validation-loss improvement before stopping, default 5. */
  patience?: number;
  /** Default 1. */
  seed?: number;
  /** Default DEFAULT_FEATURIZER. */
  featurizer?: FeaturizerConfig;
  /**
   * An explicit validation set (e.g. a benchmark's dev split). When given, nothing is held out of the training
   * data (validationSplit is ignored, every out-of-scope example is trained on) and this set alone drives early
   * stopping and the out-of-scope threshold. Its intents must be among the training intents; it may leave some
   * out. It needs at least one in-scope example; its out-of-scope examples only calibrate the threshold.
   */
  validation?: TrainingData;
}

export interface TrainingData {
  intents: Record<string, string[]>;
  outOfScope?: string[];
}

export interface TrainedModel {
  /** Intent names, sorted. */
  labels: string[];
  featurizer: FeaturizerConfig;
  weights: MlpWeights;
  /**
   * Out-of-scope threshold on the top probability. With out-of-scope validation examples: the value that
   * maximizes in-scope accuracy + recallWeight * out-of-scope recall on validation. Otherwise the 5th
   * percentile of the confidences of correct validation predictions.
   */
  threshold: number;
  metrics: {
    /** Epochs run, including the `patience` ones after the best (whose weights are the ones kept). */
    epochs: number;
    /** Mean in-scope cross-entropy over the best epoch, measured while training (dropout on). */
    trainLoss: number;
    /** In-scope cross-entropy and accuracy of the kept weights on validation (training set if none held out). */
    validationLoss: number;
    validationAccuracy: number;
    trainingMs: number;
    /** Examples used after dropping blanks and repeats, out-of-scope included. */
    examples: number;
  };
  /** sha256 hex of canonical JSON of the cleaned training data and the resolved options. */
  dataHash: string;
}

export const MAX_LABELS = 1000;
export const MAX_EXAMPLES = 200_000;
const MIN_HELD_OUT_INTENT = 5;
// Validation loss must drop by more than this to count as progress, so an easy set that creeps toward zero
// loss still stops.
const MIN_IMPROVEMENT = 1e-4;
const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPS = 1e-8;
const EPS_LOG = 1e-12;

type Resolved = Required<Omit<TrainingOptions, 'featurizer' | 'validation'>> & {
  featurizer: FeaturizerConfig;
};

function fail(detail: string, data: Record<string, unknown> = {}): never {
  throw new SwitchboardError('NLU_TRAINING_INVALID', detail, data);
}

function numberOption(
  input: Record<string, unknown>,
  name: keyof TrainingOptions,
  fallback: number,
  min: number,
  max: number,
  integer: boolean,
  minExclusive = false,
): number {
  const value = input[name] ?? fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    (minExclusive ? value <= min : value < min) ||
    value > max
  )
    fail(
      `${name} must be ${integer ? 'an integer' : 'a number'} ${minExclusive ? 'above' : 'from'} ${min} to ${max}`,
      {
        field: name,
      },
    );
  return value;
}

const OPTION_KEYS = new Set([
  'hidden',
  'epochs',
  'batchSize',
  'learningRate',
  'weightDecay',
  'dropout',
  'inputDropout',
  'validationSplit',
  'labelSmoothing',
  'recallWeight',
  'outOfScopeLossWeight',
  'patience',
  'seed',
  'featurizer',
  'validation',
]);

function resolveOptions(options: unknown): Resolved {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    fail('options must be an object', { field: 'options' });
  const input = options as Record<string, unknown>;
  for (const key of Object.keys(input))
    if (!OPTION_KEYS.has(key)) fail(`${key} is not a known training option`, { field: key });
  return {
    hidden: numberOption(input, 'hidden', 128, 1, 4096, true),
    epochs: numberOption(input, 'epochs', 60, 1, 10_000, true),
    batchSize: numberOption(input, 'batchSize', 32, 1, 65_536, true),
    learningRate: numberOption(input, 'learningRate', 0.003, 0, 1, false, true),
    weightDecay: numberOption(input, 'weightDecay', 1e-4, 0, 1, false),
    dropout: numberOption(input, 'dropout', 0.2, 0, 0.95, false),
    inputDropout: numberOption(input, 'inputDropout', 0, 0, 0.95, false),
    validationSplit: numberOption(input, 'validationSplit', 0.1, 0, 0.5, false),
    labelSmoothing: numberOption(input, 'labelSmoothing', 0, 0, 0.5, false),
    recallWeight: numberOption(input, 'recallWeight', 1, 0, 100, false),
    outOfScopeLossWeight: numberOption(input, 'outOfScopeLossWeight', 1, 0, 100, false),
    patience: numberOption(input, 'patience', 5, 1, 10_000, true),
    seed: numberOption(input, 'seed', 1, 0, 0xffffffff, true),
    featurizer: validateFeaturizerConfig(input['featurizer'] ?? DEFAULT_FEATURIZER),
  };
}

interface CleanData {
  labels: string[];
  /** Per label, its examples: trimmed, blanks dropped, repeats (after normalization) dropped. */
  examples: string[][];
  outOfScope: string[];
}

function isBlank(text: string): boolean {
  return normalizeUtterance(text) === '';
}

/** Checks the data and drops blank and repeated examples. Messages name intents, never example text. */
function cleanData(data: unknown): CleanData {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) fail('data must be an object');
  const { intents, outOfScope } = data as { intents?: unknown; outOfScope?: unknown };
  if (typeof intents !== 'object' || intents === null || Array.isArray(intents))
    fail('intents must be an object of intent name to examples', { field: 'intents' });
  const labels = Object.keys(intents).sort();
  if (labels.length < 2) fail('at least 2 intents are needed', { field: 'intents', count: labels.length });
  if (labels.length > MAX_LABELS)
    fail(`at most ${MAX_LABELS} intents are supported`, { field: 'intents', count: labels.length });

  // Normalized text -> the intent that claimed it, to catch one example under two intents.
  const owner = new Map<string, string>();
  let total = 0;
  const examples = labels.map((label) => {
    if (label.trim() === '') fail('intent names must not be blank', { field: 'intents' });
    const list = (intents as Record<string, unknown>)[label];
    if (!Array.isArray(list)) fail(`intent "${label}" must have an array of examples`, { intent: label });
    const kept: string[] = [];
    for (const [index, text] of (list as unknown[]).entries()) {
      if (typeof text !== 'string')
        fail(`intent "${label}" has an example that is not a string`, { intent: label, index });
      if (isBlank(text)) continue;
      const key = normalizeUtterance(text);
      const previous = owner.get(key);
      if (previous === label) continue;
      if (previous !== undefined)
        fail(`the same example is listed under intents "${previous}" and "${label}"`, {
          intents: [previous, label],
          index,
        });
      owner.set(key, label);
      kept.push(text.trim());
    }
    if (kept.length === 0) fail(`intent "${label}" has no non-blank examples`, { intent: label });
    total += kept.length;
    return kept;
  });

  const oos: string[] = [];
  if (outOfScope !== undefined) {
    if (!Array.isArray(outOfScope)) fail('outOfScope must be an array of strings', { field: 'outOfScope' });
    const seen = new Set<string>();
    for (const [index, text] of (outOfScope as unknown[]).entries()) {
      if (typeof text !== 'string')
        fail('outOfScope has an example that is not a string', { field: 'outOfScope', index });
      if (isBlank(text)) continue;
      const key = normalizeUtterance(text);
      const claimed = owner.get(key);
      if (claimed !== undefined)
        fail(`the same example is listed under intent "${claimed}" and outOfScope`, {
          intents: [claimed, 'outOfScope'],
          index,
        });
      if (seen.has(key)) continue;
      seen.add(key);
      oos.push(text.trim());
    }
  }
  total += oos.length;
  if (total > MAX_EXAMPLES) fail(`at most ${MAX_EXAMPLES} examples are supported`, { count: total });
  return { labels, examples, outOfScope: oos };
}

/**
 * Checks an explicit validation set against the training labels: per training label its examples (trimmed,
 * blanks and repeats dropped; possibly none), and its out-of-scope examples. An intent the training data does
 * not have, an example under two intents, or no in-scope example at all is NLU_TRAINING_INVALID. Overlap with
 * the training data is allowed: it is the caller's split.
 */
function cleanValidation(validation: unknown, labels: string[]): Omit<CleanData, 'labels'> {
  if (typeof validation !== 'object' || validation === null || Array.isArray(validation))
    fail('validation must be an object', { field: 'validation' });
  const { intents, outOfScope } = validation as { intents?: unknown; outOfScope?: unknown };
  if (typeof intents !== 'object' || intents === null || Array.isArray(intents))
    fail('validation intents must be an object of intent name to examples', { field: 'validation' });
  const index = new Map(labels.map((label, k) => [label, k]));
  const examples: string[][] = labels.map(() => []);
  const owner = new Map<string, string>();
  let total = 0;
  for (const label of Object.keys(intents).sort()) {
    const k = index.get(label);
    if (k === undefined)
      fail(`validation intent "${label}" is not a training intent`, { field: 'validation', intent: label });
    const list = (intents as Record<string, unknown>)[label];
    if (!Array.isArray(list))
      fail(`validation intent "${label}" must have an array of examples`, {
        field: 'validation',
        intent: label,
      });
    for (const [i, text] of (list as unknown[]).entries()) {
      if (typeof text !== 'string')
        fail(`validation intent "${label}" has an example that is not a string`, {
          field: 'validation',
          intent: label,
          index: i,
        });
      if (isBlank(text)) continue;
      const key = normalizeUtterance(text);
      const previous = owner.get(key);
      if (previous === label) continue;
      if (previous !== undefined)
        fail(`the same validation example is listed under intents "${previous}" and "${label}"`, {
          field: 'validation',
          intents: [previous, label],
          index: i,
        });
      owner.set(key, label);
      examples[k]!.push(text.trim());
      total++;
    }
  }
  if (total === 0) fail('validation needs at least one in-scope example', { field: 'validation' });
  const oos: string[] = [];
  if (outOfScope !== undefined) {
    if (!Array.isArray(outOfScope))
      fail('validation outOfScope must be an array of strings', { field: 'validation' });
    const seen = new Set<string>();
    for (const [i, text] of (outOfScope as unknown[]).entries()) {
      if (typeof text !== 'string')
        fail('validation outOfScope has an example that is not a string', { field: 'validation', index: i });
      if (isBlank(text)) continue;
      const key = normalizeUtterance(text);
      const claimed = owner.get(key);
      if (claimed !== undefined)
        fail(`the same validation example is listed under intent "${claimed}" and outOfScope`, {
          field: 'validation',
          intents: [claimed, 'outOfScope'],
          index: i,
        });
      if (seen.has(key)) continue;
      seen.add(key);
      oos.push(text.trim());
    }
  }
  if (total + oos.length > MAX_EXAMPLES)
    fail(`at most ${MAX_EXAMPLES} validation examples are supported`, { field: 'validation' });
  return { examples, outOfScope: oos };
}

/** JSON with object keys sorted, so equal data hashes equally whatever order its keys were written in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Examples in compressed sparse row form: example e owns entries offsets[e]..offsets[e+1]. */
interface SparseSet {
  offsets: Uint32Array;
  indices: Uint32Array;
  values: Float32Array;
  /** Label index, or -1 for out-of-scope. */
  targets: Int32Array;
}

function toSparse(featurizer: Featurizer, texts: string[], targets: number[]): SparseSet {
  const rows = texts.map((text) => featurizer.sparse(text));
  const offsets = new Uint32Array(rows.length + 1);
  for (let e = 0; e < rows.length; e++) offsets[e + 1] = offsets[e]! + rows[e]!.indices.length;
  const indices = new Uint32Array(offsets[rows.length]!);
  const values = new Float32Array(offsets[rows.length]!);
  rows.forEach((row, e) => {
    indices.set(row.indices, offsets[e]);
    values.set(row.values, offsets[e]);
  });
  return { offsets, indices, values, targets: Int32Array.from(targets) };
}

function rowOf(set: SparseSet, e: number): { indices: Uint32Array; values: Float32Array } {
  const start = set.offsets[e]!;
  const end = set.offsets[e + 1]!;
  return { indices: set.indices.subarray(start, end), values: set.values.subarray(start, end) };
}

/** He init for w1 (ReLU follows it), Xavier for w2, zero biases. */
function initWeights(rng: Rng, inputDims: number, hidden: number, labels: number): MlpWeights {
  const w1 = new Float32Array(inputDims * hidden);
  const std1 = Math.sqrt(2 / inputDims);
  for (let i = 0; i < w1.length; i++) w1[i] = rng.normal() * std1;
  const w2 = new Float32Array(hidden * labels);
  const limit2 = Math.sqrt(6 / (hidden + labels));
  for (let i = 0; i < w2.length; i++) w2[i] = (rng.next() * 2 - 1) * limit2;
  return { inputDims, hidden, labels, w1, b1: new Float32Array(hidden), w2, b2: new Float32Array(labels) };
}

/** Loss of one example's probabilities: cross-entropy to its label, or to uniform for out-of-scope. */
function exampleLoss(probs: Float32Array, target: number): number {
  if (target >= 0) return -Math.log(Math.max(probs[target]!, EPS_LOG));
  let sum = 0;
  for (let k = 0; k < probs.length; k++) sum -= Math.log(Math.max(probs[k]!, EPS_LOG));
  return sum / probs.length;
}

interface Evaluation {
  loss: number;
  accuracy: number;
  /** Top probability per example, and whether the top label was right (always false for out-of-scope). */
  confidences: Float64Array;
  correct: Uint8Array;
}

function evaluate(weights: MlpWeights, set: SparseSet, members: Uint32Array): Evaluation {
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

/**
 * With out-of-scope examples: the threshold maximizing in-scope accuracy (right and confident enough) plus
 * recallWeight times out-of-scope recall (below the threshold). Of the best range of thresholds the midpoint
 * is taken, so the cut sits between the two confidences it separates rather than on one of them.
 */
function calibrate(
  evaluation: Evaluation,
  set: SparseSet,
  members: Uint32Array,
  recallWeight: number,
): number {
  const inScope: number[] = [];
  const outOfScope: number[] = [];
  const correctConf: number[] = [];
  for (let m = 0; m < members.length; m++) {
    const conf = evaluation.confidences[m]!;
    if (set.targets[members[m]!]! < 0) outOfScope.push(conf);
    else {
      inScope.push(conf);
      if (evaluation.correct[m]) correctConf.push(conf);
    }
  }
  if (outOfScope.length === 0 || inScope.length === 0) {
    if (correctConf.length === 0) return 0;
    correctConf.sort((a, b) => a - b);
    return correctConf[Math.floor(0.05 * (correctConf.length - 1))]!;
  }
  // Sweep candidate thresholds upward over every distinct confidence: at threshold t, correct in-scope
  // examples with confidence >= t count, and out-of-scope examples with confidence < t count.
  const events: { conf: number; correct: boolean; oos: boolean }[] = [];
  for (let m = 0; m < members.length; m++) {
    const oos = set.targets[members[m]!]! < 0;
    events.push({ conf: evaluation.confidences[m]!, correct: !oos && evaluation.correct[m] === 1, oos });
  }
  events.sort((a, b) => a.conf - b.conf);
  let accepted = correctConf.length; // correct in-scope at or above the threshold
  let rejected = 0; // out-of-scope below the threshold
  let bestScore = accepted / inScope.length;
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
    const score = accepted / inScope.length + (recallWeight * rejected) / outOfScope.length;
    if (score > bestScore) {
      bestScore = score;
      bestLow = conf;
      bestHigh = next;
    }
  }
  return (bestLow + bestHigh) / 2;
}

/** Train the intent model. Throws NLU_TRAINING_INVALID (naming the intent or option) on bad input. */
export function train(data: TrainingData, options?: TrainingOptions): TrainedModel {
  const started = performance.now();
  const opts = resolveOptions(options);
  const clean = cleanData(data);
  const explicit =
    options?.validation === undefined ? undefined : cleanValidation(options.validation, clean.labels);
  const dataHash = createHash('sha256')
    .update(
      canonicalJson({
        intents: Object.fromEntries(clean.labels.map((label, k) => [label, clean.examples[k]])),
        outOfScope: clean.outOfScope,
        options: opts,
        // Only with an explicit validation set (canonicalJson leaves undefined out): it shapes the model too.
        validation: explicit && {
          intents: Object.fromEntries(clean.labels.map((label, k) => [label, explicit.examples[k]])),
          outOfScope: explicit.outOfScope,
        },
      }),
    )
    .digest('hex');

  const rng = new Rng(opts.seed);
  const featurizer = new Featurizer(opts.featurizer);
  const texts: string[] = [];
  const targets: number[] = [];
  const trainMembers: number[] = [];
  const validMembers: number[] = [];
  const split = (count: number, minForHoldout: number): number =>
    explicit === undefined && count >= minForHoldout && opts.validationSplit > 0
      ? Math.min(count - 1, Math.max(1, Math.round(count * opts.validationSplit)))
      : 0;
  const addGroup = (group: string[], target: number, held: number): void => {
    const order = rng.shuffle(Array.from(group.keys()));
    order.forEach((i, position) => {
      (position < held ? validMembers : trainMembers).push(texts.length);
      texts.push(group[i]!);
      targets.push(target);
    });
  };
  clean.examples.forEach((group, k) => addGroup(group, k, split(group.length, MIN_HELD_OUT_INTENT)));
  const oosHeld =
    explicit !== undefined
      ? 0
      : clean.outOfScope.length < MIN_HELD_OUT_INTENT
        ? clean.outOfScope.length
        : split(clean.outOfScope.length, MIN_HELD_OUT_INTENT);
  addGroup(clean.outOfScope, -1, oosHeld);
  const examples = texts.length;
  if (explicit !== undefined) {
    const held = (group: string[], target: number): void => {
      for (const text of group) {
        validMembers.push(texts.length);
        texts.push(text);
        targets.push(target);
      }
    };
    explicit.examples.forEach((group, k) => held(group, k));
    held(explicit.outOfScope, -1);
  }

  const set = toSparse(featurizer, texts, targets);
  const trainSet = Uint32Array.from(trainMembers);
  const hasValidation = validMembers.some((e) => targets[e]! >= 0);
  const valid = Uint32Array.from(hasValidation ? validMembers : [...trainMembers, ...validMembers]);

  const inputDims = opts.featurizer.dims;
  const { hidden, batchSize, learningRate: lr, weightDecay, dropout } = opts;
  const labels = clean.labels.length;
  const weights = initWeights(rng, inputDims, hidden, labels);
  let widest = 0;
  for (let e = 0; e < texts.length; e++) widest = Math.max(widest, set.offsets[e + 1]! - set.offsets[e]!);
  const net = newState(weights, dropout, opts.inputDropout, widest, opts.labelSmoothing);
  const { w1, b1, w2, b2, gw1, mw1, vw1, gb1, mb1, vb1, gw2, mw2, vw2, gb2, mb2, vb2, rows } = net;

  let best = { loss: Infinity, trainLoss: 0, epoch: 0 };
  let bestWeights = snapshot(weights);
  let epochsRun = 0;

  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    epochsRun = epoch;
    rng.shuffle(trainSet);
    let epochLoss = 0; // in-scope examples only: the uniform-target loss of out-of-scope ones is never 0
    let epochCount = 0;
    for (let start = 0; start < trainSet.length; start += batchSize) {
      const end = Math.min(trainSet.length, start + batchSize);
      const scale = 1 / (end - start);
      net.rowCount = 0;
      for (let m = start; m < end; m++) {
        const e = trainSet[m]!;
        const inScope = set.targets[e]! >= 0;
        const loss = accumulate(net, set, e, inScope ? scale : scale * opts.outOfScopeLossWeight, rng);
        if (inScope) {
          epochLoss += loss;
          epochCount++;
        }
      }
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
    const trainLoss = epochCount ? epochLoss / epochCount : 0;
    const evaluation = hasValidation ? evaluate(weights, set, valid) : undefined;
    const loss = evaluation ? evaluation.loss : trainLoss;
    if (loss < best.loss - MIN_IMPROVEMENT) {
      best = { loss, trainLoss, epoch };
      bestWeights = snapshot(weights);
    } else if (epoch - best.epoch >= opts.patience) break;
  }

  checkWeights(bestWeights);
  const final = evaluate(bestWeights, set, valid);
  const threshold = calibrate(final, set, valid, opts.recallWeight);
  return {
    labels: clean.labels,
    featurizer: { ...opts.featurizer },
    weights: bestWeights,
    threshold,
    metrics: {
      epochs: epochsRun,
      trainLoss: best.trainLoss,
      validationLoss: final.loss,
      validationAccuracy: final.accuracy,
      trainingMs: Math.round(performance.now() - started),
      examples,
    },
    dataHash,
  };
}

/** Weights, gradients, Adam moments and scratch for one training run. */
interface TrainState {
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

function newState(
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
function accumulate(s: TrainState, set: SparseSet, e: number, scale: number, rng: Rng): number {
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

function snapshot(weights: MlpWeights): MlpWeights {
  return {
    ...weights,
    w1: weights.w1.slice(),
    b1: weights.b1.slice(),
    w2: weights.w2.slice(),
    b2: weights.b2.slice(),
  };
}

/** The top intent for `text`, or null when its probability is under the model's threshold. */
export function predict(
  model: TrainedModel,
  featurizer: Featurizer,
  text: string,
): { intent: string | null; confidence: number } {
  if (featurizer.config.dims !== model.weights.inputDims)
    throw new SwitchboardError('NLU_MODEL_INVALID', 'featurizer dims do not match the model', {
      featurizerDims: featurizer.config.dims,
      inputDims: model.weights.inputDims,
    });
  const { indices, values } = featurizer.sparse(text);
  const probs = forwardSparse(model.weights, indices, values);
  let best = 0;
  for (let k = 1; k < probs.length; k++) if (probs[k]! > probs[best]!) best = k;
  const confidence = probs[best]!;
  return { intent: confidence >= model.threshold ? (model.labels[best] ?? null) : null, confidence };
}
