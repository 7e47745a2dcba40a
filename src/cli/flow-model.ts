/**
 * A flow's intent model for the commands that work on one flow (train, nlu, chat, replay): the same cache, key
 * and training data the server uses, so a model trained here is the one `serve` picks up, and the other way
 * round; and a flow's own model folder, loaded as the server loads it.
 */
import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { externalModelVersion, loadExternalModel } from '../config/external-model.ts';
import { SwitchboardError } from '../errors.ts';
import type { FlowFile } from '../flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../flow/training-data.ts';
import type { IntentClassifier } from '../nlu/intent-classifier.ts';
import { ModelCache, type CachedModel } from '../nlu/model-cache.ts';
import { IntentModel, MODEL_JSON } from '../nlu/model-dir.ts';
import { TransformerIntentModel } from '../nlu/transformer/intent-model.ts';
import { CONFIG_JSON } from '../nlu/transformer/model-folder.ts';

/** MODELS_DIR read as configFromEnv reads it, without the server settings that command does not need. */
export function modelsDir(): string {
  const dir = process.env.MODELS_DIR?.trim();
  return dir ? dir : './data/models';
}

/** Trains the flow's model unless the cache has it; throws the trainer's typed errors. */
export function ensureFlowModel(flow: FlowFile): Promise<CachedModel> {
  return new ModelCache({ dir: modelsDir() }).ensure(flow.id, flowTrainingData(flow), FLOW_TRAINING_OPTIONS);
}

/**
 * The model a flow is understood with, as the server would load it: the folder the flow names (relative to
 * `flowPath`'s folder), or its own model, trained first if the cache lacks it. `note` says what was done, for
 * the command to print.
 */
export async function loadFlowModel(
  flow: FlowFile,
  flowPath: string,
): Promise<{ model: IntentClassifier; version: string; note: string | null }> {
  if (flow.model) {
    const dir = dirname(flowPath);
    const version = await externalModelVersion(flow.model, dir);
    return {
      model: await loadExternalModel(flow, flow.model, dir),
      version,
      note: null,
    };
  }
  const cached = await ensureFlowModel(flow);
  return {
    model: await IntentModel.load(cached.dir),
    version: cached.version,
    note: cached.trained ? `trained the intent model of "${flow.id}" into ${cached.dir}` : null,
  };
}

/**
 * A model folder named on the command line: one `switchboard train --data` wrote (model.json), or a Hugging
 * Face-style folder, whose labels are the intents; `threshold` (default 0: always the top label) applies to the
 * latter, which has no examples to calibrate one on.
 */
export async function loadModelDir(dir: string, threshold = 0): Promise<IntentClassifier> {
  const has = (name: string): Promise<boolean> =>
    access(join(dir, name)).then(
      () => true,
      () => false,
    );
  if (await has(MODEL_JSON)) return IntentModel.load(dir);
  if (await has(CONFIG_JSON)) return TransformerIntentModel.load(dir, { threshold });
  throw new SwitchboardError(
    'NLU_MODEL_INVALID',
    `not a model folder: it has neither ${MODEL_JSON} (from switchboard train --data) nor ${CONFIG_JSON} (a Hugging Face-style export)`,
    { dir },
  );
}
