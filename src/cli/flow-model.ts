/**
 * A flow's intent model for the commands that work on one flow (train, nlu, chat): the same cache, key and
 * training data the server uses, so a model trained here is the one `serve` picks up, and the other way round.
 */
import type { FlowFile } from '../flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../flow/training-data.ts';
import { ModelCache, type CachedModel } from '../nlu/model-cache.ts';

/** MODELS_DIR read as configFromEnv reads it, without the server settings that command does not need. */
export function modelsDir(): string {
  const dir = process.env.MODELS_DIR?.trim();
  return dir ? dir : './data/models';
}

/** Trains the flow's model unless the cache has it; throws the trainer's typed errors. */
export function ensureFlowModel(flow: FlowFile): Promise<CachedModel> {
  return new ModelCache({ dir: modelsDir() }).ensure(flow.id, flowTrainingData(flow), FLOW_TRAINING_OPTIONS);
}
