/**
 * Checks of a flow's `model`: an intent model trained elsewhere (a Hugging Face-style ONNX folder) that
 * understands the flow instead of the model trained from its examples. What the folder holds is checked when it
 * is loaded; here, that the flow says where it is and maps its labels onto intents the flow has.
 */
import { BUILTIN_INTENT_NAMES } from '../types.ts';
import { escapePointer, isObject, unknownKeys, type Add } from './finding.ts';

const MODEL_KEYS = new Set(['path', 'labels', 'threshold']);

export function checkModel(model: unknown, intents: readonly string[], add: Add): void {
  if (model === undefined) return;
  if (!isObject(model)) {
    add('/model', 'model must be an object', 'e.g. "model": { "path": "models/pharmacy" }');
    return;
  }
  unknownKeys(model, MODEL_KEYS, '/model', add);
  if (typeof model.path !== 'string' || model.path.trim() === '')
    add(
      '/model/path',
      "path must name the model's folder (relative to the flow file's folder)",
      'the folder holds model.onnx, tokenizer.json and config.json',
    );
  if (
    model.threshold !== undefined &&
    (typeof model.threshold !== 'number' || !(model.threshold >= 0 && model.threshold <= 1))
  )
    add(
      '/model/threshold',
      'threshold must be a number from 0 to 1',
      'leave it out to calibrate it on the flow',
    );
  if (model.labels === undefined) return;
  if (!isObject(model.labels)) {
    add('/model/labels', 'labels must map model labels to intent names (or null for out of scope)');
    return;
  }
  const known = new Set<string>([...intents, ...BUILTIN_INTENT_NAMES]);
  for (const [label, intent] of Object.entries(model.labels)) {
    const at = `/model/labels/${escapePointer(label)}`;
    if (intent === null) continue;
    if (typeof intent !== 'string') add(at, 'a label maps to an intent name, or to null for out of scope');
    else if (!known.has(intent))
      add(at, `"${intent}" is not an intent of this flow`, `intents: ${[...known].join(', ')}`);
  }
}
