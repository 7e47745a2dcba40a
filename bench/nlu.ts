/**
 * Intent model quality and speed on public benchmarks, beside the published figures.
 *
 * CLINC150 (Larson et al., EMNLP 2019), "Full" data with oos-train: trains on train + oos_train, early-stops and
 * calibrates the out-of-scope threshold on val + oos_val (the trainer's explicit validation set), and scores
 * test + oos_test once. The settings below were chosen on val only; test is read after training and never fed
 * back. Inference is timed per utterance (featurize + onnxruntime run, IntentSession with 1 thread) over the
 * whole test set, from the model.onnx actually written.
 *
 * SNIPS 2017 (Coucke et al. 2018), 7 intents: trains on train_<Intent>_full.json (the trainer carves its own
 * tuning split out of it), reports closed-set intent accuracy (top label) on validate_<Intent>.json.
 *
 * Usage: node --import tsx bench/nlu.ts [--clinc PATH/data_full.json] [--snips DIR]
 * Defaults: ../shared/datasets/clinc150/data_full.json and ../shared/datasets/snips-2017 next to the project;
 * the env vars CLINC150_DATA and SNIPS2017_DATA override them, flags override both.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import {
  Featurizer,
  IntentSession,
  normalizeUtterance,
  predict,
  train,
  writeModelDir,
} from '../src/nlu/index.ts';
import type { TrainedModel, TrainingData, TrainingOptions } from '../src/nlu/index.ts';
import { trainWithDefaults } from '../src/nlu/default-training.ts';
import { percentile } from './server-process.ts';

const PROJECT = new URL('..', import.meta.url).pathname;
const { values: flags } = parseArgs({
  options: { clinc: { type: 'string' }, snips: { type: 'string' } },
});
const clincPath =
  flags.clinc ?? process.env['CLINC150_DATA'] ?? join(PROJECT, '../shared/datasets/clinc150/data_full.json');
const snipsDir =
  flags.snips ?? process.env['SNIPS2017_DATA'] ?? join(PROJECT, '../shared/datasets/snips-2017');

const SNIPS_INTENTS = [
  'AddToPlaylist',
  'BookRestaurant',
  'GetWeather',
  'PlayMusic',
  'RateBook',
  'SearchCreativeWork',
  'SearchScreeningEvent',
];

/**
 * Settings for CLINC150, chosen on val + oos_val (one run per setting, seed 1, then seeds 1-3 for the last
 * candidates; val top-1 moves by about ±0.3 points between seeds, so smaller differences were not chased):
 * - 16384 hashed dims: 4096 collides too much for 150 intents (val top-1 92.1% -> 93.2%). 32768 x 64 hidden
 *   was no better, and 32768 x 128 would break the 1 ms inference budget (the first layer is a dense
 *   [dims x hidden] MatMul in onnxruntime: about 0.25 ms at 16384 x 128 here, 0.5 ms at 32768).
 * - Word 1-2-grams and char 3-4-grams, hidden 128: word 3-grams, char 2-5-grams, hidden 192 and ensembles of
 *   smaller nets all scored the same on val and cost more.
 * - Dropout 0.4 on the hidden layer and 0.3 on the input n-grams: +0.3 top-1 over 0.2 / 0 (more was no better).
 * - Out-of-scope training loss x4: the 100 oos_train examples are 0.7% of the data; weighting them raised
 *   out-of-scope recall on val by ~8 points at the same in-scope accuracy (x15 cost in-scope accuracy).
 * - The threshold maximizes correct decisions over all of val, each utterance counting once (recallWeight =
 *   oos_val / val size), as the paper scores out-of-scope as one more class. The trainer's default, accuracy +
 *   recall weighted equally, gives ~90% recall for ~6 points of in-scope accuracy here.
 * - Learning rate 0.003, batch 32, early stopping with patience 5 (the defaults); label smoothing and a linear
 *   learning-rate decay were tried and did not help.
 */
const CLINC_OPTIONS: TrainingOptions = {
  featurizer: { dims: 16384, wordNgrams: [1, 2], charNgrams: [3, 4] },
  hidden: 128,
  dropout: 0.4,
  inputDropout: 0.3,
  outOfScopeLossWeight: 4,
};

/** SNIPS uses the same model settings; its tuning split is 10% of train_full, held out by the trainer. */
const SNIPS_OPTIONS: TrainingOptions = {
  featurizer: CLINC_OPTIONS.featurizer!,
  hidden: 128,
  dropout: 0.4,
  inputDropout: 0.3,
};

/** The published CLINC150 rows (Full data, oos-train): in-scope accuracy and out-of-scope recall, in %. */
const PAPER: [string, number, number][] = [
  ['FastText', 89.0, 9.7],
  ['SVM', 91.0, 14.5],
  ['CNN', 91.2, 18.9],
  ['DialogFlow', 91.7, 14.0],
  ['Rasa', 91.5, 45.3],
  ['MLP on USE embeddings', 93.5, 47.4],
  ['BERT', 96.9, 40.3],
];

function missing(what: string, path: string, hint: string): never {
  console.error(`bench:nlu: ${what} not found at ${path}\n  ${hint}`);
  process.exit(2);
}

if (!existsSync(clincPath) || !statSync(clincPath).isFile())
  missing('CLINC150 data_full.json', clincPath, 'pass --clinc PATH or set CLINC150_DATA');
for (const intent of SNIPS_INTENTS)
  for (const file of [`train_${intent}_full.json`, `validate_${intent}.json`])
    if (!existsSync(join(snipsDir, intent, file)))
      missing(`SNIPS 2017 ${file}`, join(snipsDir, intent), 'pass --snips DIR or set SNIPS2017_DATA');

const pct = (x: number): string => (x * 100).toFixed(1);
const us = (xs: number[], p: number): string => `${percentile(xs, p).toFixed(1)} µs`;

// ---- CLINC150 ----------------------------------------------------------------------------------------------

type Pair = [string, string];
const clinc = JSON.parse(readFileSync(clincPath, 'utf8')) as Record<string, Pair[] | undefined>;
function split(name: string): Pair[] {
  const rows = clinc[name];
  if (!Array.isArray(rows)) {
    console.error(`bench:nlu: ${clincPath} has no "${name}" split`);
    process.exit(2);
  }
  return rows;
}
function toData(inScope: Pair[], outOfScope: Pair[]): TrainingData {
  const intents: Record<string, string[]> = {};
  for (const [text, label] of inScope) (intents[label] ??= []).push(text);
  return { intents, outOfScope: outOfScope.map(([text]) => text) };
}

/** In-scope accuracy (right label and confident enough) and out-of-scope recall (rejected), from a scorer. */
function score(
  inScope: Pair[],
  outOfScope: Pair[],
  classify: (text: string) => string | null,
): { accuracy: number; recall: number } {
  const right = inScope.filter(([text, label]) => classify(text) === label).length;
  const rejected = outOfScope.filter(([text]) => classify(text) === null).length;
  return { accuracy: right / inScope.length, recall: rejected / outOfScope.length };
}

const trainData = toData(split('train'), split('oos_train'));
const valData = toData(split('val'), split('oos_val'));

const recallWeight = split('oos_val').length / split('val').length;
let t0 = performance.now();
const model = train(trainData, { ...CLINC_OPTIONS, recallWeight, validation: valData });
const trainingMs = performance.now() - t0;
const featurizer = new Featurizer(model.featurizer);
const tsClassify = (m: TrainedModel) => (text: string) => predict(m, featurizer, text).intent;
const val = score(split('val'), split('oos_val'), tsClassify(model));

const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-nlu-'));
let modelBytes: Buffer;
try {
  await writeModelDir(model, dir);
  modelBytes = await readFile(join(dir, 'model.onnx'));
} finally {
  await rm(dir, { recursive: true, force: true });
}

// Test, read once: every figure below comes from onnxruntime on the written model.onnx.
const testIn = split('test');
const testOut = split('oos_test');
const session = await IntentSession.load(modelBytes, { threads: 1 });
const x = new Float32Array(model.featurizer.dims);
for (const [text] of split('val').slice(0, 500)) await session.run(featurizer.featurize(text, x)); // warm up

const testTexts = [...testIn, ...testOut].map(([text]) => text);
const runUs: number[] = [];
const decided = new Map<string, string | null>();
for (const text of testTexts) {
  const start = performance.now();
  const probs = await session.run(featurizer.featurize(text, x));
  runUs.push((performance.now() - start) * 1000);
  let best = 0;
  for (let k = 1; k < probs.length; k++) if (probs[k]! > probs[best]!) best = k;
  decided.set(text, probs[best]! >= model.threshold ? model.labels[best]! : null);
}
await session.release();
const test = score(testIn, testOut, (text) => decided.get(text) ?? null);
// The TypeScript forward pass should make the same decisions as onnxruntime (it is what val was scored with).
const disagree = testTexts.filter((text) => tsClassify(model)(text) !== decided.get(text)).length;

const featurizeUs: number[] = [];
for (const [text] of [...testIn, ...testOut]) {
  const start = performance.now();
  featurizer.featurize(text, x);
  featurizeUs.push((performance.now() - start) * 1000);
}

const f = model.featurizer;
console.log(
  `CLINC150 full, oos-train: ${model.labels.length} intents, ${model.metrics.examples} training examples ` +
    `(train + oos_train), validation val + oos_val, test ${testIn.length} + ${testOut.length} oos`,
);
console.log(
  `  model: dims ${f.dims}, words [${f.wordNgrams.join(',')}], chars [${f.charNgrams.join(',')}], ` +
    `hidden ${model.weights.hidden}, dropout ${CLINC_OPTIONS.dropout}, ` +
    `input dropout ${CLINC_OPTIONS.inputDropout}, ` +
    `out-of-scope loss x${CLINC_OPTIONS.outOfScopeLossWeight}, recallWeight ${recallWeight.toFixed(4)}`,
);
console.log(
  `  training: ${(trainingMs / 1000).toFixed(1)} s, ${model.metrics.epochs} epochs; ` +
    `threshold ${model.threshold.toFixed(3)} (calibrated on val)`,
);
console.log(
  `  val (tuning set): in-scope ${pct(val.accuracy)}%, out-of-scope recall ${pct(val.recall)}%, ` +
    `top-1 ${pct(model.metrics.validationAccuracy)}%`,
);
console.log(`  model.onnx: ${modelBytes.length} bytes (${(modelBytes.length / 1e6).toFixed(2)} MB)`);
console.log(
  `  inference per utterance, featurize + onnxruntime run, 1 thread, ${runUs.length} test utterances: ` +
    `p50 ${us(runUs, 50)}, p99 ${us(runUs, 99)}`,
);
console.log(`  featurize alone: p50 ${us(featurizeUs, 50)}, p99 ${us(featurizeUs, 99)}`);
console.log(
  `  onnxruntime and the TypeScript forward pass disagree on ${disagree} of ${runUs.length} decisions`,
);
console.log('');
console.log('  CLINC150 test (Full, oos-train)     in-scope acc  OOS recall');
for (const [name, accuracy, recall] of PAPER)
  console.log(
    `  ${`${name} (paper)`.padEnd(36)}${accuracy.toFixed(1).padStart(12)}${recall.toFixed(1).padStart(12)}`,
  );
const ours = 'Switchboard hashed n-gram MLP'.padEnd(36);
console.log(`  ${ours}${pct(test.accuracy).padStart(12)}${pct(test.recall).padStart(12)}`);
const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');
console.log(
  `  targets: in-scope >= 92.0% ${met(test.accuracy >= 0.92)}, out-of-scope recall >= 46% ` +
    `${met(test.recall >= 0.46)}, inference p99 < 1 ms ${met(percentile(runUs, 99) < 1000)}, ` +
    `training < 2 min ${met(trainingMs < 120_000)}`,
);

// As a user runs it: `switchboard train --data` on train + oos_train with no options (trainWithDefaults), val
// never seen, test read once.
t0 = performance.now();
const byDefault = trainWithDefaults(trainData);
const defaultMs = performance.now() - t0;
const defaultFeaturizer = new Featurizer(byDefault.featurizer);
const defaults = score(testIn, testOut, (text) => predict(byDefault, defaultFeaturizer, text).intent);
const cv = byDefault.crossValidation;
console.log('');
console.log(
  `CLINC150 with switchboard train's defaults (train + oos_train only): dims ${byDefault.featurizer.dims}, ` +
    `${byDefault.metrics.epochs} epochs, threshold ${byDefault.threshold.toFixed(3)}, ` +
    `${(defaultMs / 1000).toFixed(1)} s including ${cv.folds}-fold cross-validation`,
);
console.log(
  `  cross-validation (held-out folds of train): in-scope ${pct(cv.inScopeAccuracy)}%, ` +
    `out-of-scope recall ${pct(cv.outOfScopeRecall)}%`,
);
console.log(
  `  test: in-scope ${pct(defaults.accuracy)}%, out-of-scope recall ${pct(defaults.recall)}%; targets: ` +
    `in-scope >= 92.0% ${met(defaults.accuracy >= 0.92)}, out-of-scope recall >= 46% ${met(defaults.recall >= 0.46)}`,
);

// ---- SNIPS 2017 ---------------------------------------------------------------------------------------------

interface SnipsQuery {
  data: { text: string }[];
}
function snipsTexts(intent: string, file: string): string[] {
  const json = JSON.parse(readFileSync(join(snipsDir, intent, file), 'utf8')) as Record<string, SnipsQuery[]>;
  return (json[intent] ?? []).map((q) =>
    q.data
      .map((segment) => segment.text)
      .join('')
      .trim(),
  );
}
const snipsTrain = Object.fromEntries(SNIPS_INTENTS.map((i) => [i, snipsTexts(i, `train_${i}_full.json`)]));
// A query written under two intents cannot be learned either way, and the trainer refuses it: drop it from both.
const owners = new Map<string, Set<string>>();
for (const [intent, texts] of Object.entries(snipsTrain))
  for (const text of texts) {
    const key = normalizeUtterance(text);
    owners.set(key, (owners.get(key) ?? new Set()).add(intent));
  }
const ambiguous = new Set([...owners].filter(([, set]) => set.size > 1).map(([key]) => key));
for (const intent of SNIPS_INTENTS)
  snipsTrain[intent] = snipsTrain[intent]!.filter((text) => !ambiguous.has(normalizeUtterance(text)));

t0 = performance.now();
const snipsModel = train({ intents: snipsTrain }, SNIPS_OPTIONS);
const snipsMs = performance.now() - t0;
const snipsFeaturizer = new Featurizer(snipsModel.featurizer);
let snipsRight = 0;
let snipsTotal = 0;
for (const intent of SNIPS_INTENTS)
  for (const text of snipsTexts(intent, `validate_${intent}.json`)) {
    snipsTotal++;
    const top = predict({ ...snipsModel, threshold: 0 }, snipsFeaturizer, text).intent;
    if (top === intent) snipsRight++;
  }
console.log('');
console.log(
  `SNIPS 2017, 7 intents: trained on train_full (${snipsModel.metrics.examples} queries, ${ambiguous.size} ` +
    `listed under two intents dropped) in ${(snipsMs / 1000).toFixed(1)} s, ${snipsModel.metrics.epochs} epochs`,
);
console.log(
  `  intent accuracy on validate (closed set, top label): ${pct(snipsRight / snipsTotal)}% ` +
    `(${snipsRight}/${snipsTotal})`,
);
