/**
 * A trained intent model on disk: a folder with `model.onnx` (the network) and `model.json` (labels,
 * featurizer config, threshold, training metrics, data hash). The runtime needs both: the network alone does
 * not say which label an output is, nor how text becomes its input.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SwitchboardError, isSwitchboardError } from '../errors.ts';
import { Featurizer, validateFeaturizerConfig } from './featurizer.ts';
import type { FeaturizerConfig } from './featurizer.ts';
import type { IntentClassifier } from './intent-classifier.ts';
import { normalizeUtterance } from './normalize.ts';
import { IntentSession } from './onnx-session.ts';
import type { IntentSessionOptions } from './onnx-session.ts';
import { mlpToOnnx } from './onnx-writer.ts';
import type { TrainedModel } from './trainer.ts';

/** Bumped when model.json or the network contract changes in a way older readers cannot follow. */
export const MODEL_FORMAT_VERSION = 1;
export const MODEL_ONNX = 'model.onnx';
export const MODEL_JSON = 'model.json';

export interface ModelManifest {
  formatVersion: number;
  labels: string[];
  featurizer: FeaturizerConfig;
  threshold: number;
  metrics: TrainedModel['metrics'];
  dataHash: string;
}

function invalid(detail: string, data: Record<string, unknown> = {}, cause?: unknown): SwitchboardError {
  return new SwitchboardError('NLU_MODEL_INVALID', detail, data, cause === undefined ? undefined : { cause });
}

/**
 * Writes the model folder, creating it. Each file goes to a temporary name first and is renamed into place,
 * so a reader sees either the old file or the new one, never half of one. No timestamp is stored: the same
 * training run gives byte-identical files.
 */
export async function writeModelDir(model: TrainedModel, dir: string): Promise<void> {
  const manifest: ModelManifest = {
    formatVersion: MODEL_FORMAT_VERSION,
    labels: model.labels,
    featurizer: model.featurizer,
    threshold: model.threshold,
    metrics: model.metrics,
    dataHash: model.dataHash,
  };
  const onnx = mlpToOnnx(model.weights);
  await mkdir(dir, { recursive: true });
  const suffix = `.tmp-${process.pid}-${Date.now()}`;
  // The network first and the manifest last: a reader between the two renames meets a label or dims
  // mismatch, which load reports, rather than a silently wrong model.
  for (const [name, content] of [
    [MODEL_ONNX, onnx],
    [MODEL_JSON, `${JSON.stringify(manifest, null, 2)}\n`],
  ] as const) {
    const target = join(dir, name);
    const temp = target + suffix;
    try {
      await writeFile(temp, content);
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }
}

function parseManifest(text: string): ModelManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`${MODEL_JSON} is not valid JSON`, {}, err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${MODEL_JSON} must be a JSON object`);
  const m = value as Record<string, unknown>;
  const version = m['formatVersion'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    throw invalid(`${MODEL_JSON} formatVersion must be a positive integer`, { field: 'formatVersion' });
  if (version > MODEL_FORMAT_VERSION)
    throw invalid(
      `${MODEL_JSON} has formatVersion ${version}, made by a newer Switchboard (this one reads up to ${MODEL_FORMAT_VERSION})`,
      { field: 'formatVersion', formatVersion: version },
    );
  const labels = m['labels'];
  if (
    !Array.isArray(labels) ||
    labels.length === 0 ||
    !labels.every((l) => typeof l === 'string' && l !== '') ||
    new Set(labels).size !== labels.length
  )
    throw invalid(`${MODEL_JSON} labels must be a non-empty array of distinct names`, { field: 'labels' });
  const threshold = m['threshold'];
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1))
    throw invalid(`${MODEL_JSON} threshold must be a number from 0 to 1`, { field: 'threshold' });
  const dataHash = m['dataHash'];
  if (typeof dataHash !== 'string')
    throw invalid(`${MODEL_JSON} dataHash must be a string`, { field: 'dataHash' });
  const metrics = m['metrics'];
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics))
    throw invalid(`${MODEL_JSON} metrics must be an object`, { field: 'metrics' });
  let featurizer: FeaturizerConfig;
  try {
    featurizer = validateFeaturizerConfig(m['featurizer']);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw invalid(`${MODEL_JSON} featurizer is invalid (${why})`, { field: 'featurizer' }, err);
  }
  return {
    formatVersion: version,
    labels: labels as string[],
    featurizer,
    threshold,
    metrics: metrics as TrainedModel['metrics'],
    dataHash,
  };
}

export class IntentModel implements IntentClassifier {
  readonly labels: readonly string[];
  readonly threshold: number;
  readonly dataHash: string;
  readonly manifest: Readonly<ModelManifest>;
  private readonly featurizer: Featurizer;
  private readonly session: IntentSession;

  private constructor(manifest: ModelManifest, featurizer: Featurizer, session: IntentSession) {
    this.manifest = manifest;
    this.labels = Object.freeze([...manifest.labels]);
    this.threshold = manifest.threshold;
    this.dataHash = manifest.dataHash;
    this.featurizer = featurizer;
    this.session = session;
  }

  /** Loads a folder written by {@link writeModelDir}; anything missing, corrupt or inconsistent is NLU_MODEL_INVALID. */
  static async load(dir: string, options: IntentSessionOptions = {}): Promise<IntentModel> {
    let text: string;
    try {
      text = await readFile(join(dir, MODEL_JSON), 'utf8');
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      throw invalid(missing ? `${MODEL_JSON} is missing` : `${MODEL_JSON} could not be read`, { dir }, err);
    }
    const manifest = parseManifest(text);
    const featurizer = new Featurizer(manifest.featurizer);

    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(dir, MODEL_ONNX));
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      throw invalid(missing ? `${MODEL_ONNX} is missing` : `${MODEL_ONNX} could not be read`, { dir }, err);
    }
    const session = await IntentSession.load(bytes, options);
    try {
      if (session.labels !== manifest.labels.length)
        throw invalid(
          `${MODEL_JSON} lists ${manifest.labels.length} labels but ${MODEL_ONNX} outputs ${session.labels}`,
          {
            labels: manifest.labels.length,
            outputs: session.labels,
          },
        );
      if (session.inputDims !== manifest.featurizer.dims)
        throw invalid(
          `${MODEL_JSON} featurizer has ${manifest.featurizer.dims} dims but ${MODEL_ONNX} takes ${session.inputDims}`,
          { dims: manifest.featurizer.dims, inputDims: session.inputDims },
        );
    } catch (err) {
      await session.release();
      throw isSwitchboardError(err) ? err : invalid('model could not be checked', {}, err);
    }
    return new IntentModel(manifest, featurizer, session);
  }

  /** The top intent, or null when nothing clears the threshold; blank text is null with confidence 0. */
  async classify(text: string): Promise<{ intent: string | null; confidence: number }> {
    if (normalizeUtterance(text) === '') return { intent: null, confidence: 0 };
    const probs = await this.session.run(this.featurizer.featurize(text));
    let best = 0;
    for (let k = 1; k < probs.length; k++) if (probs[k]! > probs[best]!) best = k;
    const confidence = probs[best] ?? 0;
    return { intent: confidence >= this.threshold ? (this.labels[best] ?? null) : null, confidence };
  }

  /** Frees the native session; later classify calls reject with NLU_INFERENCE_FAILED. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
