/**
 * How fast `switchboard evaluate` judges recorded turns: distinct caller turns of the pharmacy flow, each
 * understood by two models (the flow's own, and a candidate trained with a few more examples) and routed by the
 * flow, one turn at a time as the command does.
 * Usage: node --import tsx bench/evaluate.ts [--turns 2000]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { judge } from '../src/cli/evaluate.ts';
import { checkFlowText, compileFlow } from '../src/flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../src/flow/training-data.ts';
import { evaluate } from '../src/learning/evaluate.ts';
import { ModelCache } from '../src/nlu/model-cache.ts';
import { IntentModel } from '../src/nlu/model-dir.ts';
import { GENERIC_OUT_OF_SCOPE } from '../src/nlu/out-of-scope.ts';

const { values } = parseArgs({ options: { turns: { type: 'string' } } });
const count = Number(values.turns ?? 2000);
const checked = checkFlowText(await readFile(new URL('../flows/pharmacy.json', import.meta.url), 'utf8'));
if (!checked.ok) throw new Error('flows/pharmacy.json does not validate');
const compiled = compileFlow(checked.flow);
const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-evaluate-'));
const cache = new ModelCache({ dir });
const data = flowTrainingData(checked.flow);
const live = await IntentModel.load((await cache.ensure('pharmacy', data, FLOW_TRAINING_OPTIONS)).dir);
const more = {
  ...data,
  intents: { ...data.intents, refill: [...data.intents['refill']!, 'get my pills topped up'] },
};
const candidate = await IntentModel.load((await cache.ensure('pharmacy', more, FLOW_TRAINING_OPTIONS)).dir);

// Distinct turns: every example and out-of-scope sentence, with a lead-in and a state, until there are enough.
const sentences = [...Object.values(data.intents).flat(), ...GENERIC_OUT_OF_SCOPE];
const leads = ['', 'um ', 'so ', 'yeah ', 'well ', 'hi ', 'okay ', 'right ', 'actually ', 'sorry '];
const states = ['greet', 'method', 'rx', 'zip'];
const turns: { heard: string; state: string }[] = [];
for (let i = 0; turns.length < count; i++)
  turns.push({
    heard: `${leads[Math.floor(i / sentences.length) % leads.length]}${sentences[i % sentences.length]} ${i}`,
    state: states[i % states.length]!,
  });

const runs: number[] = [];
for (let run = 0; run < 3; run++) {
  const result = await evaluate(turns, judge(compiled, live), judge(compiled, candidate));
  runs.push((result.turns * 1000) / result.ms);
}
runs.sort((a, b) => a - b);
console.log(
  `evaluate: ${count} distinct turns judged by two models and routed, 3 runs: ` +
    `${runs.map((r) => Math.round(r)).join(', ')} turns per second (median ${Math.round(runs[1]!)})`,
);
await live.release();
await candidate.release();
await rm(dir, { recursive: true, force: true });
