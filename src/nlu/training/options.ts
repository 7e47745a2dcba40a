/** Training inputs: the data and options shapes, and the option checks that resolve defaults. */
import { SwitchboardError } from '../../errors.ts';
import { DEFAULT_FEATURIZER, validateFeaturizerConfig } from '../featurizer.ts';
import type { FeaturizerConfig } from '../featurizer.ts';

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

export type ResolvedOptions = Required<Omit<TrainingOptions, 'featurizer' | 'validation'>> & {
  featurizer: FeaturizerConfig;
};

/** Throws NLU_TRAINING_INVALID; the option and data checks share it. */
export function fail(detail: string, data: Record<string, unknown> = {}): never {
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

export function resolveOptions(options: unknown): ResolvedOptions {
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
