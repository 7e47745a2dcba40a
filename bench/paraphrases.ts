/**
 * Paraphrases the pharmacy flow does not list, said in the states where callers say them, and what the call does
 * with each: understood by the flow's intent model as on a call (exact examples first), then routed by the flow.
 * A risky misfire is leaving the state's own question for a global intent the caller did not mean (a transfer,
 * a goodbye); an out-of-scope line should be a no-match.
 * Usage: node --import tsx bench/paraphrases.ts [--model DIR]
 * With --model, the flow is understood by that Hugging Face-style folder (as a flow's "model" names one), e.g.
 * test/fixtures/models/pharmacy-pytorch, the model trained in PyTorch by scripts/pytorch/; without it, by the
 * model trained from the flow's examples. Also prints the model's size and its time per utterance.
 */
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { judge } from '../src/cli/evaluate.ts';
import { loadExternalModel } from '../src/config/external-model.ts';
import { checkFlowText, compileFlow } from '../src/flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../src/flow/training-data.ts';
import type { IntentClassifier } from '../src/nlu/intent-classifier.ts';
import { IntentModel } from '../src/nlu/model-dir.ts';
import { ModelCache } from '../src/nlu/model-cache.ts';
import { percentile } from './server-process.ts';

/**
 * What a line should lead to: a state, a collected value, a no-match (asked again), or "did you mean...?" for a
 * global intent.
 */
type Outcome = `goto ${string}` | `collect ${string}` | `check ${string}` | 'ask again';

const LINES: { state: string; said: string; want: Outcome[] }[] = [
  { state: 'greet', said: 'i need to refill my medication', want: ['goto rx'] },
  { state: 'greet', said: 'can i get my prescription refilled', want: ['goto rx'] },
  { state: 'greet', said: "i'm calling about a refill", want: ['goto rx'] },
  { state: 'greet', said: 'refill please', want: ['goto rx'] },
  { state: 'greet', said: 'can i talk to the pharmacist', want: ['goto pharmacist'] },
  { state: 'greet', said: 'let me speak with a person', want: ['goto pharmacist'] },
  { state: 'greet', said: 'actually never mind', want: ['goto cancelled', 'check cancel'] },
  { state: 'method', said: 'in person', want: ['collect pickup', 'ask again', 'check operator'] },
  {
    state: 'method',
    said: "i'll stop by later today",
    want: ['collect pickup', 'ask again', 'check cancel'],
  },
  { state: 'method', said: "i'll come get it", want: ['collect pickup', 'ask again'] },
  { state: 'method', said: "i'd rather pick it up myself", want: ['collect pickup'] },
  { state: 'method', said: 'can you mail it to me', want: ['collect delivery'] },
  { state: 'method', said: 'send it to my house', want: ['collect delivery', 'ask again'] },
  { state: 'method', said: 'deliver it please', want: ['collect delivery'] },
  { state: 'method', said: 'let me talk to a pharmacist', want: ['goto pharmacist', 'check operator'] },
  { state: 'method', said: 'forget about it', want: ['goto cancelled', 'check cancel', 'ask again'] },
  { state: 'method', said: 'which is faster', want: ['ask again'] },
  { state: 'rx', said: "i don't have the label with me", want: ['ask again'] },
  {
    state: 'rx',
    said: 'can someone help me find it',
    want: ['goto pharmacist', 'check operator', 'ask again'],
  },
  { state: 'zip', said: "i'm not sure what it is", want: ['ask again'] },
];
/** Out of scope everywhere: each should be asked again, in the greeting and at the pickup question. */
const OUT_OF_SCOPE = [
  'what time do you close',
  'do you sell sunscreen',
  'my car broke down',
  'is the parking lot open',
  'how much is a flu shot',
  'i would like to order a pizza',
  'what is the weather like',
  'do you have any coupons',
];

const text = await readFile(new URL('../flows/pharmacy.json', import.meta.url), 'utf8');
const checked = checkFlowText(text);
if (!checked.ok) throw new Error('flows/pharmacy.json does not validate');
const compiled = compileFlow(checked.flow);
const { values: flags } = parseArgs({ options: { model: { type: 'string' } } });
const models = await mkdtemp(join(tmpdir(), 'switchboard-bench-paraphrases-'));
let model: IntentClassifier;
let modelDir: string;
if (flags.model === undefined) {
  const cached = await new ModelCache({ dir: models }).ensure(
    'pharmacy',
    flowTrainingData(checked.flow),
    FLOW_TRAINING_OPTIONS,
  );
  modelDir = cached.dir;
  model = await IntentModel.load(modelDir);
} else {
  modelDir = resolve(flags.model);
  model = await loadExternalModel(checked.flow, { path: modelDir }, '.');
}
// Understood and routed as `switchboard evaluate` judges a turn: exact examples, then the model, then the flow.
const judged = judge(compiled, model);

async function decide(state: string, said: string): Promise<{ heard: string; got: string }> {
  const { intent, confidence, path } = await judged(said, state);
  return { heard: intent === null ? 'none' : `${intent} ${confidence.toFixed(2)}`, got: path };
}

console.log('pharmacy: unlisted paraphrases, in the state they are said in');
console.log(`${'state'.padEnd(7)} ${'said'.padEnd(36)} ${'model'.padEnd(16)} ${'outcome'.padEnd(20)} want`);
let right = 0;
let misfires = 0;
for (const line of LINES) {
  const { heard, got } = await decide(line.state, line.said);
  const ok = (line.want as string[]).includes(got);
  if (ok) right += 1;
  else if (got.startsWith('goto ')) misfires += 1;
  console.log(
    `${line.state.padEnd(7)} ${line.said.padEnd(36)} ${heard.padEnd(16)} ${got.padEnd(20)} ${ok ? 'ok' : `WANT ${line.want.join(' or ')}`}`,
  );
}
let rejected = 0;
for (const said of OUT_OF_SCOPE) {
  for (const state of ['greet', 'method']) {
    const { heard, got } = await decide(state, said);
    if (got === 'ask again') rejected += 1;
    else {
      if (got.startsWith('goto ')) misfires += 1;
      console.log(
        `${state.padEnd(7)} ${said.padEnd(36)} ${heard.padEnd(16)} ${got.padEnd(20)} WANT ask again`,
      );
    }
  }
}
console.log(
  `paraphrases right: ${right}/${LINES.length}; out of scope asked again: ${rejected}/${OUT_OF_SCOPE.length * 2}; ` +
    `calls sent elsewhere by mistake: ${misfires}`,
);

// Time per utterance: every line above, 50 times over, after a warm-up pass.
const texts = [...LINES.map((l) => l.said), ...OUT_OF_SCOPE];
for (const said of texts) await model.classify(said);
const times: number[] = [];
for (let round = 0; round < 50; round++)
  for (const said of texts) {
    const start = performance.now();
    await model.classify(said);
    times.push((performance.now() - start) * 1000);
  }
let bytes = 0;
for (const name of await readdir(modelDir))
  if (name !== 'parity.json') bytes += (await stat(join(modelDir, name))).size;
console.log(
  `model: ${flags.model === undefined ? "trained from the flow's examples" : modelDir}, threshold ` +
    `${model.threshold.toFixed(3)}, ${bytes} bytes on disk; per utterance (tokenize or featurize + onnxruntime, ` +
    `${times.length} runs): p50 ${percentile(times, 50).toFixed(1)} us, p99 ${percentile(times, 99).toFixed(1)} us`,
);
await model.release();
await rm(models, { recursive: true, force: true });
