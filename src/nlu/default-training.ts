/**
 * Training with no options to tune: what `switchboard train` does. The settings that did best on CLINC150's
 * validation split (see bench/nlu.ts) are scaled to the data's size, and the two things no fixed default can
 * know, how many epochs to train and where to put the out-of-scope threshold, are measured on the data itself
 * by k-fold cross-validation. No data outside the training set is looked at.
 *
 * Choices worth knowing:
 * - Capacity: 16384 hashed dimensions from 5,000 in-scope examples up (4096 collides too much for 150
 *   intents), 4096 below (the same accuracy on a flow's few hundred examples, in a quarter of the size).
 * - Dropout 0.4 on the hidden layer and 0.3 on the input n-grams.
 * - Out-of-scope examples weigh 4 times as much as in-scope ones in the loss when they are under 5% of the
 *   data (they would barely register otherwise), and the same when there are more.
 * - Folds: 5, or 3 from 5,000 in-scope examples up, where each fold is already a large sample and training
 *   time matters more.
 * - The final model trains on everything for the median of the folds' best epoch counts.
 * - The threshold maximizes, over every held-out confidence, in-scope accuracy + 0.05 x out-of-scope recall:
 *   one out-of-scope utterance in twenty of what a deployed model hears. On a small set that means rejecting
 *   what can be rejected without losing an example the folds got right; on a large one it trades a little
 *   in-scope accuracy for much more recall.
 */
import { crossValidate } from './cross-validation.ts';
import { chooseThreshold } from './training/calibration.ts';
import { cleanData } from './training/data.ts';
import { train, type TrainedModel, type TrainingData, type TrainingOptions } from './trainer.ts';

/** What a user may still choose; everything else is decided from the data. */
export interface DefaultTrainingOptions {
  seed?: number;
  hidden?: number;
  /** Caps the epochs of the folds (and so of the final model). */
  epochs?: number;
}

export const DEFAULT_RECALL_WEIGHT = 0.05;
const LARGE = 5000;

export interface CrossValidationMetrics {
  folds: number;
  /** Held-out in-scope examples whose top label was right (before the threshold). */
  accuracy: number;
  /** With the chosen threshold: held-out in-scope examples right and confident enough. */
  inScopeAccuracy: number;
  /** With the chosen threshold: held-out out-of-scope examples rejected (NaN without any). */
  outOfScopeRecall: number;
}

export type DefaultTrainedModel = TrainedModel & { crossValidation: CrossValidationMetrics };

/** The options {@link trainWithDefaults} trains with, before epochs are set. */
export function defaultOptions(data: TrainingData, choices: DefaultTrainingOptions = {}): TrainingOptions {
  const clean = cleanData(data);
  const inScope = clean.examples.reduce((n, group) => n + group.length, 0);
  const fewOutOfScope = clean.outOfScope.length > 0 && clean.outOfScope.length < 0.05 * inScope;
  return {
    featurizer: { dims: inScope >= LARGE ? 16384 : 4096, wordNgrams: [1, 2], charNgrams: [3, 4] },
    hidden: choices.hidden ?? 128,
    dropout: 0.4,
    inputDropout: 0.3,
    outOfScopeLossWeight: fewOutOfScope ? 4 : 1,
    seed: choices.seed ?? 1,
    ...(choices.epochs === undefined ? {} : { epochs: choices.epochs }),
  };
}

/** Trains with options chosen from the data; throws NLU_TRAINING_INVALID on bad data, as {@link train} does. */
export function trainWithDefaults(
  data: TrainingData,
  choices: DefaultTrainingOptions = {},
): DefaultTrainedModel {
  const started = performance.now();
  const options = defaultOptions(data, choices);
  const clean = cleanData(data);
  const inScope = clean.examples.reduce((n, group) => n + group.length, 0);
  const cv = crossValidate(clean, options, inScope >= LARGE ? 3 : 5, options.seed ?? 1);

  const sorted = [...cv.bestEpochs].sort((a, b) => a - b);
  const epochs = sorted.length > 0 ? sorted[Math.floor((sorted.length - 1) / 2)]! : (options.epochs ?? 60);
  // Every example is trained on and no validation is left to stop early: exactly `epochs` epochs run.
  const model = train(data, { ...options, epochs, validationSplit: 0, patience: 10_000 });

  const held = cv.scored.filter((s) => !s.oos);
  const outOfScope = cv.scored.filter((s) => s.oos);
  const threshold = held.length > 0 ? chooseThreshold(cv.scored, DEFAULT_RECALL_WEIGHT) : model.threshold;
  const crossValidation: CrossValidationMetrics = {
    folds: cv.folds,
    accuracy: held.length ? held.filter((s) => s.correct).length / held.length : NaN,
    inScopeAccuracy: held.length
      ? held.filter((s) => s.correct && s.conf >= threshold).length / held.length
      : NaN,
    outOfScopeRecall: outOfScope.length
      ? outOfScope.filter((s) => s.conf < threshold).length / outOfScope.length
      : NaN,
  };
  return {
    ...model,
    threshold,
    metrics: { ...model.metrics, trainingMs: Math.round(performance.now() - started) },
    crossValidation,
  };
}
