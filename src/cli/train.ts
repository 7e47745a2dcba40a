/**
 * `switchboard train FLOW`: trains a flow's intent model into the model cache the server reads (nothing to do
 * when the flow's examples have not changed). `switchboard train --data FILE --out DIR`: trains from a JSON
 * file of examples into a model folder, for data that is not a flow.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isSwitchboardError } from '../errors.ts';
import { IntentModel, MODEL_ONNX, writeModelDir } from '../nlu/model-dir.ts';
import { trainWithDefaults, type DefaultTrainingOptions } from '../nlu/default-training.ts';
import type { TrainingData } from '../nlu/trainer.ts';
import { loadFlowArg } from './flow-arg.ts';
import type { FlowFile } from '../flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../flow/training-data.ts';
import { parseReview, withLabels } from '../learning/review-file.ts';
import { ModelCache, modelVersion } from '../nlu/model-cache.ts';
import { ensureFlowModel, loadFlowModel, modelsDir } from './flow-model.ts';

const HELP = `usage: switchboard train FLOW [--with REVIEW_FILE]
       switchboard train --data FILE --out DIR [--seed N] [--hidden N] [--epochs N]

With FLOW (a .json file, or a flow id in $FLOWS_DIR): trains the flow's intent model from its intents'
examples and the built-in intents, into $MODELS_DIR/<flow>/<version>/ (./data/models), where "switchboard
serve" finds it. The version is a hash of the examples and the training code: an unchanged flow is not
retrained.

With --with: trains a candidate model from the flow's examples plus the turns labeled in a review file
("switchboard learn" writes one). It is stored as a new version beside the live one, not made live: serve keeps
the flow's own until the flow changes (see "switchboard evaluate").

With --data: trains from a JSON file and writes DIR/model.onnx and DIR/model.json. The model's size, its
epochs and its out-of-scope threshold are chosen from the data by cross-validation (5 folds, 3 from 5,000
examples up), so no option needs tuning; the figures printed are measured on the held-out folds.

  --data FILE   JSON: { "intents": { "<name>": ["example", ...] }, "outOfScope": ["...", ...] }
                outOfScope is optional; it calibrates when the model answers "no intent"
  --out DIR     model folder to write (created if missing)
  --seed N      random seed, default 1 (the same data and seed give the same model)
  --hidden N    hidden units, default 128
  --epochs N    maximum epochs, default 60 (each fold stops early when its held-out part stops improving)
  -h, --help    show this help

Exit status: 0 when the model was written, 1 for bad data or a failed write, 2 for a usage error.`;

// Training data is text, so anything far past this is a mistake (a wrong file), not a dataset.
const MAX_DATA_BYTES = 64 * 1024 * 1024;

class UsageError extends Error {}

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(value);
}

/** Checks the data file's shape; messages name fields and intents, never example text. */
export function checkTrainingData(value: unknown): string | TrainingData {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'the file must hold a JSON object with "intents" (and optionally "outOfScope")';
  const data = value as Record<string, unknown>;
  for (const key of Object.keys(data))
    if (key !== 'intents' && key !== 'outOfScope')
      return `unknown field "${key}": only "intents" and "outOfScope" are allowed`;
  const intents = data['intents'];
  if (typeof intents !== 'object' || intents === null || Array.isArray(intents))
    return '"intents" must be an object of intent name to an array of examples';
  for (const [name, examples] of Object.entries(intents))
    if (!Array.isArray(examples) || !examples.every((e) => typeof e === 'string'))
      return `intent "${name}" must be an array of strings`;
  const oos = data['outOfScope'];
  if (oos !== undefined && (!Array.isArray(oos) || !oos.every((e) => typeof e === 'string')))
    return '"outOfScope" must be an array of strings';
  return data as unknown as TrainingData;
}

export async function main(args: string[]): Promise<number> {
  let values: {
    data?: string;
    out?: string;
    seed?: string;
    hidden?: string;
    epochs?: string;
    with?: string;
    help?: boolean;
  };
  const options: DefaultTrainingOptions = {};
  try {
    let positionals: string[];
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        data: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        hidden: { type: 'string' },
        epochs: { type: 'string' },
        with: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length > 0) {
      if (values.data !== undefined || values.out !== undefined)
        throw new UsageError('give either FLOW or --data FILE --out DIR, not both');
      if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
      if (values.seed ?? values.hidden ?? values.epochs)
        throw new UsageError(
          '--seed, --hidden and --epochs apply to --data only: a flow trains with the defaults',
        );
      return await trainFlow(positionals[0]!, values.with);
    }
    if (values.with !== undefined) throw new UsageError('--with applies to a FLOW, not to --data');
    if (values.data === undefined) throw new UsageError('FLOW or --data FILE is required');
    if (values.out === undefined) throw new UsageError('--out DIR is required');
    const seed = intOption('seed', values.seed);
    const hidden = intOption('hidden', values.hidden);
    const epochs = intOption('epochs', values.epochs);
    if (seed !== undefined) options.seed = seed;
    if (hidden !== undefined) options.hidden = hidden;
    if (epochs !== undefined) options.epochs = epochs;
  } catch (err) {
    // parseArgs reports unknown or malformed options with an ERR_PARSE_ARGS_* code: a usage error too.
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!(err instanceof UsageError) && !code.startsWith('ERR_PARSE_ARGS')) throw err;
    console.error(`switchboard train: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const file = values.data;
  const out = values.out;

  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    if (info.size > MAX_DATA_BYTES) {
      console.error(
        `switchboard train: ${file}: the file is larger than ${MAX_DATA_BYTES / (1024 * 1024)} MiB`,
      );
      return 1;
    }
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message;
    console.error(`switchboard train: cannot read ${file}: ${why}`);
    return 1;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    console.error(`switchboard train: ${file}: not valid JSON`);
    return 1;
  }
  const data = checkTrainingData(parsed);
  if (typeof data === 'string') {
    console.error(`switchboard train: ${file}: ${data}`);
    return 1;
  }

  try {
    const model = trainWithDefaults(data, options);
    await writeModelDir(model, out);
    const size = (await stat(join(out, MODEL_ONNX))).size;
    const m = model.metrics;
    const cv = model.crossValidation;
    const pct = (x: number): string => (Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`);
    console.log(
      [
        `labels:              ${model.labels.length} (${model.labels.join(', ')})`,
        `examples:            ${m.examples}`,
        `model:               ${model.featurizer.dims} hashed dims, ${model.weights.hidden} hidden units`,
        `epochs:              ${m.epochs}`,
        `cross-validation:    ${cv.folds} folds; top label right ${pct(cv.accuracy)}, with the threshold: ` +
          `in-scope ${pct(cv.inScopeAccuracy)}, out-of-scope rejected ${pct(cv.outOfScopeRecall)}`,
        `threshold:           ${model.threshold.toFixed(3)}`,
        `training time:       ${Math.round(m.trainingMs)} ms`,
        `model size:          ${size} bytes (${MODEL_ONNX})`,
        `written to:          ${out}`,
      ].join('\n'),
    );
    return 0;
  } catch (err) {
    // Trainer and config errors carry their own plain message; a failed write is the file system's.
    const message = isSwitchboardError(err) || err instanceof Error ? err.message : String(err);
    console.error(`switchboard train: ${message}`);
    return 1;
  }
}

async function trainFlow(arg: string, review: string | undefined): Promise<number> {
  const loaded = await loadFlowArg(arg);
  if (!loaded.ok) {
    console.error(loaded.message.includes('\n') ? loaded.message : `switchboard train: ${loaded.message}`);
    return 1;
  }
  if (review !== undefined) return trainCandidate(loaded.flow, review);
  if (loaded.flow.model) return checkFlowFolder(loaded.flow, loaded.path);
  try {
    const cached = await ensureFlowModel(loaded.flow);
    const model = await IntentModel.load(cached.dir);
    await model.release();
    const size = (await stat(join(cached.dir, MODEL_ONNX))).size;
    const m = model.manifest.metrics;
    console.log(
      [
        `flow:                ${loaded.flow.id} (version ${loaded.flow.version})`,
        `model version:       ${cached.version} (${cached.trained ? 'trained now' : "already trained: the flow's examples are unchanged"})`,
        `labels:              ${model.labels.length} (${model.labels.join(', ')})`,
        `examples:            ${m.examples}`,
        // A flow's examples are all trained on (FLOW_TRAINING_OPTIONS), so this is accuracy on the examples.
        `accuracy:            ${(m.validationAccuracy * 100).toFixed(1)}% on the flow's own examples`,
        `threshold:           ${model.threshold.toFixed(3)}`,
        `training time:       ${Math.round(m.trainingMs)} ms`,
        `model size:          ${size} bytes (${MODEL_ONNX})`,
        `folder:              ${cached.dir}`,
      ].join('\n'),
    );
    return 0;
  } catch (err) {
    const message = isSwitchboardError(err) || err instanceof Error ? err.message : String(err);
    console.error(`switchboard train: ${loaded.flow.id}: ${message}`);
    return 1;
  }
}

/** A flow that names its own model folder has nothing to train: the folder is loaded and checked as serve would. */
async function checkFlowFolder(flow: FlowFile, path: string): Promise<number> {
  try {
    const { model, version } = await loadFlowModel(flow, path);
    const threshold = model.threshold;
    await model.release();
    console.log(
      [
        `flow:                ${flow.id} (version ${flow.version})`,
        `model folder:        ${flow.model!.path} (trained elsewhere: nothing to train here)`,
        `model version:       ${version}`,
        `intents answered:    ${model.labels.length} (${model.labels.join(', ')})`,
        `threshold:           ${threshold.toFixed(3)} (${flow.model!.threshold === undefined ? "calibrated on the flow's examples" : 'given by the flow'})`,
      ].join('\n'),
    );
    return 0;
  } catch (err) {
    const message = isSwitchboardError(err) || err instanceof Error ? err.message : String(err);
    console.error(`switchboard train: ${flow.id}: ${message}`);
    return 1;
  }
}

/** `train FLOW --with FILE`: the flow's examples plus the review file's labeled turns, as a candidate version. */
async function trainCandidate(flow: FlowFile, file: string): Promise<number> {
  const name = 'switchboard train';
  if (flow.model) {
    console.error(
      `${name}: ${flow.id} is understood by a model trained elsewhere (${flow.model.path}): label and retrain it there`,
    );
    return 1;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    console.error(`${name}: cannot read ${file}: ${(err as Error).message}`);
    return 1;
  }
  const base = flowTrainingData(flow);
  const review = parseReview(text, Object.keys(base.intents));
  const merged = withLabels(flow, review.labeled);
  const problems = [...review.problems, ...merged.problems].sort((a, b) => a.line - b.line);
  if (problems.length > 0) {
    for (const p of problems) console.error(`${file}:${p.line}: ${p.message}`);
    console.error(`${name}: ${problems.length} lines to fix in ${file}; nothing was trained`);
    return 1;
  }
  if (merged.added === 0) {
    console.error(
      `${name}: ${file} labels no new turn (${review.unlabeled} unlabeled, ${review.skipped} skipped); nothing to train`,
    );
    return 1;
  }
  try {
    const cache = new ModelCache({ dir: modelsDir() });
    const cached = await cache.ensure(flow.id, merged.data, FLOW_TRAINING_OPTIONS);
    const live = modelVersion(base, FLOW_TRAINING_OPTIONS);
    console.log(
      [
        `flow:                ${flow.id} (version ${flow.version})`,
        `labeled turns added: ${merged.added} (${review.unlabeled} unlabeled, ${review.skipped} skipped)`,
        `candidate version:   ${cached.version} (${cached.trained ? 'trained now' : 'already trained'}; not live)`,
        `live version:        ${live}`,
        `folder:              ${cached.dir}`,
      ].join('\n'),
    );
    return 0;
  } catch (err) {
    const message = isSwitchboardError(err) || err instanceof Error ? err.message : String(err);
    console.error(`${name}: ${flow.id}: ${message}`);
    return 1;
  }
}
