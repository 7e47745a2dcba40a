/**
 * Trains the intent model: hashed sparse features ({@link Featurizer}) into a one-hidden-layer MLP
 * ({@link MlpWeights}), with Adam, decoupled weight decay, dropout on the hidden layer (and optionally on the
 * input features), optional label smoothing, and early stopping on validation loss.
 *
 * The parts live in training/: options.ts (option checks), data.ts (data checks and hashing), sparse-set.ts,
 * backprop.ts (the MLP math), calibration.ts (evaluation and the out-of-scope threshold). This file is the
 * training loop with early stopping, and the entry point callers import from.
 *
 * Choices worth knowing:
 * - Out-of-scope examples are not a class. Those held out calibrate the threshold; the rest are trained toward
 *   the uniform distribution over intents, which teaches the model to be unsure about that kind of text.
 *   Fewer than 5 out-of-scope examples are all held out for calibration.
 * - w1 gets lazy Adam (see training/backprop.ts).
 * - The validation set is held out of the training data (validationSplit per intent), or given explicitly
 *   (options.validation, e.g. a benchmark's dev split): then all the training data is trained on.
 * - With no validation examples at all (every intent under 5 examples, or validationSplit 0), early stopping
 *   watches the training loss and the validation metrics and threshold are measured on the training set.
 * - Training is deterministic: the only randomness (init, split, shuffles, dropout) comes from a seeded Rng.
 */
import { SwitchboardError } from '../errors.ts';
import { Featurizer } from './featurizer.ts';
import type { FeaturizerConfig } from './featurizer.ts';
import { checkWeights, forwardSparse } from './mlp.ts';
import type { MlpWeights } from './mlp.ts';
import { Rng } from './random.ts';
import { accumulate, initWeights, newState, snapshot, updateWeights } from './training/backprop.ts';
import { calibrate, evaluate } from './training/calibration.ts';
import { cleanData, cleanValidation, hashTrainingData } from './training/data.ts';
import { resolveOptions } from './training/options.ts';
import type { TrainingData, TrainingOptions } from './training/options.ts';
import { toSparse } from './training/sparse-set.ts';

export { MAX_EXAMPLES, MAX_LABELS } from './training/data.ts';
export type { TrainingData, TrainingOptions } from './training/options.ts';

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
    /** The epoch whose weights were kept. */
    bestEpoch?: number;
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

const MIN_HELD_OUT_INTENT = 5;
// Validation loss must drop by more than this to count as progress, so an easy set that creeps toward zero
// loss still stops.
const MIN_IMPROVEMENT = 1e-4;

/** Train the intent model. Throws NLU_TRAINING_INVALID (naming the intent or option) on bad input. */
export function train(data: TrainingData, options?: TrainingOptions): TrainedModel {
  const started = performance.now();
  const opts = resolveOptions(options);
  const clean = cleanData(data);
  const explicit =
    options?.validation === undefined ? undefined : cleanValidation(options.validation, clean.labels);
  const dataHash = hashTrainingData(clean, explicit, opts);

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
      updateWeights(net, lr, weightDecay);
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
      bestEpoch: best.epoch,
      trainLoss: best.trainLoss,
      validationLoss: final.loss,
      validationAccuracy: final.accuracy,
      trainingMs: Math.round(performance.now() - started),
      examples,
    },
    dataHash,
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
