/**
 * K-fold cross-validation: every example is scored once by a model that did not train on it. What the folds
 * learn (how many epochs before validation stops improving, how confident the model is on examples and on
 * out-of-scope text it has not seen) then sets the final model's epochs and threshold, from the training data
 * alone.
 */
import { Featurizer } from './featurizer.ts';
import { Rng } from './random.ts';
import { predict, train } from './trainer.ts';
import type { CleanData } from './training/data.ts';
import type { TrainingData, TrainingOptions } from './training/options.ts';
import type { Scored } from './training/calibration.ts';

export interface CrossValidation {
  folds: number;
  /** Per fold, the epoch whose weights its early stopping kept. */
  bestEpochs: number[];
  /** Every held-out example's top confidence, whether its top label was right, and whether it is out of scope. */
  scored: Scored[];
}

/**
 * Deals each intent's examples (shuffled) round-robin over `folds`, and the out-of-scope ones likewise. An
 * intent with one example is never held out, so every fold's training data has every intent; with two or more,
 * a fold holds out at most ceil(n / folds) of n, which leaves at least one to train on.
 */
function deal(clean: CleanData, folds: number, rng: Rng): TrainingData[] {
  const parts: TrainingData[] = Array.from({ length: folds }, () => ({ intents: {}, outOfScope: [] }));
  // Each intent starts at a different fold, so intents with fewer examples than folds do not all crowd the
  // first folds.
  const offset = rng.int(folds);
  clean.examples.forEach((group, k) => {
    if (group.length < 2) return;
    const label = clean.labels[k]!;
    rng.shuffle(Array.from(group.keys())).forEach((i, position) => {
      (parts[(position + offset + k) % folds]!.intents[label] ??= []).push(group[i]!);
    });
  });
  rng.shuffle(Array.from(clean.outOfScope.keys())).forEach((i, position) => {
    parts[position % folds]!.outOfScope!.push(clean.outOfScope[i]!);
  });
  return parts;
}

/** Trains `folds` models, each validated (early stopping) on the part it did not train on. */
export function crossValidate(
  clean: CleanData,
  options: TrainingOptions,
  folds: number,
  seed: number,
): CrossValidation {
  const parts = deal(clean, folds, new Rng(seed));
  const bestEpochs: number[] = [];
  const scored: Scored[] = [];
  for (let f = 0; f < folds; f++) {
    const held = parts[f]!;
    if (Object.keys(held.intents).length === 0) continue; // too little data to hold anything out here
    const heldOut = new Set(Object.values(held.intents).flat());
    const heldOos = new Set(held.outOfScope);
    const rest: TrainingData = {
      intents: Object.fromEntries(
        clean.labels.map((label, k) => [label, clean.examples[k]!.filter((text) => !heldOut.has(text))]),
      ),
      outOfScope: clean.outOfScope.filter((text) => !heldOos.has(text)),
    };
    const model = train(rest, { ...options, validation: held });
    bestEpochs.push(model.metrics.bestEpoch ?? model.metrics.epochs);
    const featurizer = new Featurizer(model.featurizer);
    const open = { ...model, threshold: 0 };
    for (const [label, texts] of Object.entries(held.intents))
      for (const text of texts) scored.push({ ...confidenceOf(open, featurizer, text, label), oos: false });
    for (const text of held.outOfScope!)
      scored.push({ conf: predict(open, featurizer, text).confidence, correct: false, oos: true });
  }
  return { folds: bestEpochs.length, bestEpochs, scored };
}

function confidenceOf(
  model: Parameters<typeof predict>[0],
  featurizer: Featurizer,
  text: string,
  label: string,
): { conf: number; correct: boolean } {
  const { intent, confidence } = predict(model, featurizer, text);
  return { conf: confidence, correct: intent === label };
}
