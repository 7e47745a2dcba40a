/**
 * A flow's `model`: a Hugging Face-style ONNX folder trained elsewhere, found relative to the flow file's folder,
 * mapped onto the flow's intents and calibrated on its examples. The server (flow-models.ts) and the commands
 * that work on one flow load it the same way, so they understand callers alike.
 */
import { resolve } from 'node:path';
import type { FlowFile, ModelDef } from '../flow/index.ts';
import { flowTrainingData } from '../flow/training-data.ts';
import { TransformerIntentModel, transformerVersion } from '../nlu/transformer/intent-model.ts';

/** The model folder a flow names, resolved against the folder its file is in. */
export function externalModelDir(model: ModelDef, flowDir: string): string {
  return resolve(flowDir, model.path);
}

/** The version the folder would load as: a hash of its files and of how the flow uses it. */
export function externalModelVersion(model: ModelDef, flowDir: string): Promise<string> {
  return transformerVersion(externalModelDir(model, flowDir), model);
}

/** Loads the flow's model; NLU_MODEL_INVALID (with the folder in its data) when it cannot serve the flow. */
export async function loadExternalModel(
  flow: FlowFile,
  model: ModelDef,
  flowDir: string,
): Promise<TransformerIntentModel> {
  const data = flowTrainingData(flow);
  return TransformerIntentModel.load(externalModelDir(model, flowDir), {
    intents: Object.keys(data.intents),
    ...(model.labels === undefined ? {} : { labels: model.labels }),
    ...(model.threshold === undefined ? {} : { threshold: model.threshold }),
    calibration: data,
  });
}
