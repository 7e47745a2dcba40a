/**
 * A text classifier trained elsewhere, serving a flow's intents: its labels are mapped onto the flow's intents
 * (several labels may feed one intent, and a label may mean out of scope), and its out-of-scope threshold is
 * given or calibrated on the flow's own examples and sentences no flow is about.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SwitchboardError } from '../../errors.ts';
import type { IntentClassifier } from '../intent-classifier.ts';
import { normalizeUtterance } from '../normalize.ts';
import { chooseThreshold, type Scored } from '../training/calibration.ts';
import type { TrainingData } from '../training/options.ts';
import { CONFIG_JSON, MODEL_ONNX, TOKENIZER_CONFIG_JSON, TOKENIZER_JSON } from './model-folder.ts';
import { TextClassifier, type TextClassifierOptions } from './text-classifier.ts';

export interface IntentModelOptions extends TextClassifierOptions {
  /** The intents the model may answer with (the flow's and the built-ins it keeps); default its own labels. */
  intents?: readonly string[];
  /** Model label -> intent, or null for a label meaning out of scope. Labels not listed must be intents. */
  labels?: Readonly<Record<string, string | null>>;
  /** Given, it is used as is; otherwise it is calibrated on `calibration`. */
  threshold?: number;
  /** The flow's examples and out-of-scope sentences; needed when no threshold is given. */
  calibration?: TrainingData;
}

/**
 * Calibration weighs out-of-scope recall as much as in-scope accuracy, as for a flow's own model, whose threshold
 * is also set on the examples it knows.
 */
const RECALL_WEIGHT = 1;

function invalid(detail: string, data: Record<string, unknown> = {}): SwitchboardError {
  return new SwitchboardError('NLU_MODEL_INVALID', detail, data);
}

/** For each model label, the index of its intent in `intents`, or -1 when it means out of scope. */
function mapLabels(
  modelLabels: readonly string[],
  intents: readonly string[],
  mapping: Readonly<Record<string, string | null>>,
): number[] {
  const index = new Map(intents.map((name, k) => [name, k]));
  for (const label of Object.keys(mapping))
    if (!modelLabels.includes(label))
      throw invalid(`model.labels maps "${label}", which is not a label of the model`, {
        label,
        modelLabels: [...modelLabels],
      });
  const unmatched: string[] = [];
  const targets = modelLabels.map((label) => {
    const intent = Object.hasOwn(mapping, label) ? mapping[label] : label;
    if (intent === null || intent === undefined) return -1;
    const k = index.get(intent);
    if (k === undefined) unmatched.push(label);
    return k ?? -1;
  });
  if (unmatched.length > 0)
    throw invalid(
      `model labels ${unmatched.map((l) => `"${l}"`).join(', ')} match no intent of the flow: map each in ` +
        'model.labels to an intent, or to null for out of scope',
      { labels: unmatched, intents: [...intents] },
    );
  if (!targets.some((k) => k >= 0)) throw invalid('no model label maps to an intent of the flow');
  return targets;
}

export class TransformerIntentModel implements IntentClassifier {
  readonly labels: readonly string[];
  readonly threshold: number;
  /** Whether the threshold was calibrated on the flow (rather than given). */
  readonly calibrated: boolean;
  readonly #classifier: TextClassifier;
  /** Every intent a label may map to; `labels` is those some label does map to. */
  readonly #intents: readonly string[];
  readonly #targets: readonly number[];
  readonly #scores: Float64Array;

  private constructor(classifier: TextClassifier, intents: readonly string[], targets: number[]) {
    this.#classifier = classifier;
    this.#intents = intents;
    this.#targets = targets;
    const used = new Set(targets.filter((k) => k >= 0));
    this.labels = Object.freeze(intents.filter((_, k) => used.has(k)));
    this.#scores = new Float64Array(intents.length);
    this.threshold = 0;
    this.calibrated = false;
  }

  /**
   * Loads the folder and maps its labels; NLU_MODEL_INVALID for a folder that cannot serve (named files and
   * tensors in the message), or labels that match no intent.
   */
  static async load(dir: string, options: IntentModelOptions): Promise<TransformerIntentModel> {
    const classifier = await TextClassifier.load(dir, options);
    try {
      const intents = options.intents ?? classifier.labels;
      const targets = mapLabels(classifier.labels, intents, options.labels ?? {});
      const model = new TransformerIntentModel(classifier, intents, targets);
      let threshold = options.threshold;
      if (threshold === undefined) {
        if (options.calibration === undefined)
          throw invalid('a threshold is needed: give one, or examples to calibrate it on');
        threshold = await model.#calibrate(options.calibration);
      }
      return Object.assign(model, { threshold, calibrated: options.threshold === undefined });
    } catch (err) {
      await classifier.release();
      throw err;
    }
  }

  async classify(text: string): Promise<{ intent: string | null; confidence: number }> {
    if (normalizeUtterance(text) === '') return { intent: null, confidence: 0 };
    const top = await this.#top(text);
    return {
      intent: top.intent !== null && top.confidence >= this.threshold ? top.intent : null,
      confidence: top.confidence,
    };
  }

  release(): Promise<void> {
    return this.#classifier.release();
  }

  /**
   * The intent with the most probability (its labels' summed), or null when out-of-scope labels together
   * outweigh it; the confidence is that intent's probability either way.
   */
  async #top(text: string): Promise<{ intent: string | null; confidence: number }> {
    const probs = await this.#classifier.probabilities(text);
    const scores = this.#scores.fill(0);
    let outOfScope = 0;
    for (let j = 0; j < probs.length; j++) {
      const k = this.#targets[j]!;
      if (k < 0) outOfScope += probs[j]!;
      else scores[k] = scores[k]! + probs[j]!;
    }
    let best = -1;
    for (let k = 0; k < scores.length; k++) if (best < 0 || scores[k]! > scores[best]!) best = k;
    const confidence = scores[best]!;
    return { intent: outOfScope > confidence ? null : this.#intents[best]!, confidence };
  }

  async #calibrate(data: TrainingData): Promise<number> {
    const scored: Scored[] = [];
    for (const [intent, texts] of Object.entries(data.intents)) {
      if (!this.labels.includes(intent)) continue; // an intent the model does not know is exact-match only
      for (const text of texts) {
        const top = await this.#top(text);
        scored.push({ conf: top.confidence, correct: top.intent === intent, oos: false });
      }
    }
    for (const text of data.outOfScope ?? []) {
      const top = await this.#top(text);
      scored.push({ conf: top.intent === null ? 0 : top.confidence, correct: false, oos: true });
    }
    if (!scored.some((s) => !s.oos))
      throw invalid("none of the flow's examples belong to an intent the model answers", {
        labels: [...this.labels],
      });
    return chooseThreshold(scored, RECALL_WEIGHT);
  }
}

/**
 * A version for the folder and how it is used: a hash of its files and the options, so a call records which
 * model understood it and an unchanged folder is not loaded twice.
 */
export async function transformerVersion(
  dir: string,
  options: Pick<IntentModelOptions, 'labels' | 'threshold'>,
): Promise<string> {
  const hash = createHash('sha256');
  for (const name of [MODEL_ONNX, TOKENIZER_JSON, CONFIG_JSON, TOKENIZER_CONFIG_JSON]) {
    let bytes: Buffer | null = null;
    try {
      bytes = await readFile(join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    hash.update(`${name}:${bytes === null ? -1 : bytes.length}:`);
    if (bytes) hash.update(bytes);
  }
  hash.update(JSON.stringify({ labels: options.labels ?? {}, threshold: options.threshold ?? null }));
  return `onnx-${hash.digest('hex').slice(0, 16)}`;
}
