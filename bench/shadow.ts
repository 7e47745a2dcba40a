/**
 * What shadowing a candidate model (NLU_SHADOW) costs the caller's turn. Many concurrent calls of the pharmacy
 * flow each say a turn every couple of seconds (words that are not exact examples, so the model is asked), and
 * each turn is understood as a call does it (Understanding: examples, the live model, entities). Three ways, run
 * in turn, several rounds:
 * - off: the live model alone;
 * - worker: with the shadow in its worker thread, as the server runs it;
 * - main thread: the same shadow on the main thread, for contrast (what running it beside the live one would cost).
 * Printed: per-turn understanding latency (from the words to the utterance the call acts on) p50/p99, the event
 * loop's p99 delay (what every call's 20 ms audio waits), and the shadows' answers.
 * Usage: node --import tsx bench/shadow.ts [--calls 300] [--seconds 15] [--rounds 3]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Understanding, localDate } from '../src/call/understanding.ts';
import { checkFlowText } from '../src/flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../src/flow/training-data.ts';
import type { IntentClassifier } from '../src/nlu/intent-classifier.ts';
import { ModelCache } from '../src/nlu/model-cache.ts';
import { IntentModel } from '../src/nlu/model-dir.ts';
import type { ShadowVerdict } from '../src/nlu/shadow.ts';
import { WorkerIntentModel } from '../src/nlu/worker-model.ts';
import { memoryLogger } from '../src/observability/logger.ts';
import { percentile } from './server-process.ts';

const { values } = parseArgs({
  options: { calls: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' } },
});
const calls = Number(values.calls ?? 300);
const seconds = Number(values.seconds ?? 15);
const rounds = Number(values.rounds ?? 3);
const TURN_EVERY_MS = 2000;

const checked = checkFlowText(await readFile(new URL('../flows/pharmacy.json', import.meta.url), 'utf8'));
if (!checked.ok) throw new Error('flows/pharmacy.json does not validate');
const flow = checked.flow;
const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-shadow-'));
const cache = new ModelCache({ dir });
const data = flowTrainingData(flow);
const live = await IntentModel.load((await cache.ensure('pharmacy', data, FLOW_TRAINING_OPTIONS)).dir);
const more = {
  ...data,
  intents: { ...data.intents, refill: [...data.intents['refill']!, 'get my pills topped up'] },
};
const candidateDir = (await cache.ensure('pharmacy', more, FLOW_TRAINING_OPTIONS)).dir;
const inWorker = await WorkerIntentModel.load(candidateDir);
const onMain = await IntentModel.load(candidateDir);

const WORDS = [
  'i would like to get my pills topped up',
  'can you put me through to somebody',
  'my prescription ran out yesterday',
  'forget about it please',
  'what time do you close on saturday',
  'could you say that one more time',
  'yeah that is right',
  'no thanks not today',
];
const { logger } = memoryLogger('warn');

interface Result {
  turns: number[];
  loopP99: number;
  verdicts: Record<ShadowVerdict['outcome'], number>;
  shadowMs: number[];
}

async function run(shadow: IntentClassifier | null): Promise<Result> {
  const verdicts = { agree: 0, disagree: 0, failed: 0, busy: 0 };
  const shadowMs: number[] = [];
  const report = (v: ShadowVerdict): void => {
    verdicts[v.outcome] += 1;
    shadowMs.push(v.ms);
  };
  const understandings = Array.from(
    { length: calls },
    () =>
      new Understanding(flow, {
        model: live,
        shadow: shadow && { model: shadow, version: 'candidate', report },
        logger,
      }),
  );
  const turns: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const until = performance.now() + seconds * 1000;
  const timers: NodeJS.Timeout[] = [];
  let said = 0;
  await new Promise<void>((done) => {
    let running = calls;
    understandings.forEach((understanding, i) => {
      const turn = (): void => {
        if (performance.now() >= until) {
          if (--running === 0) done();
          return;
        }
        const text = WORDS[said++ % WORDS.length]!;
        const at = Date.now();
        const started = performance.now();
        void understanding.interpret(text, 'greet', at, localDate(at)).then(() => {
          turns.push(performance.now() - started);
          timers[i] = setTimeout(turn, TURN_EVERY_MS * (0.5 + Math.random()));
        });
      };
      // Calls start spread over one turn's time, as calls under way are.
      timers[i] = setTimeout(turn, Math.random() * TURN_EVERY_MS);
    });
  });
  loop.disable();
  await new Promise((r) => setTimeout(r, 200)); // the last shadows' answers
  return { turns, loopP99: loop.percentile(99) / 1e6, verdicts, shadowMs };
}

const modes: [string, IntentClassifier | null][] = [
  ['off', null],
  ['worker', inWorker],
  ['main thread', onMain],
];
const figures = new Map<string, { p50: number[]; p99: number[]; loop: number[]; last: Result }>();
for (let round = 1; round <= rounds; round++) {
  for (const [name, shadow] of modes) {
    const r = await run(shadow);
    const f = figures.get(name) ?? { p50: [], p99: [], loop: [], last: r };
    f.p50.push(percentile(r.turns, 50));
    f.p99.push(percentile(r.turns, 99));
    f.loop.push(r.loopP99);
    f.last = r;
    figures.set(name, f);
    console.log(
      `round ${round} ${name.padEnd(11)}: ${r.turns.length} turns, understanding p50 ${percentile(r.turns, 50).toFixed(3)} ms` +
        ` p99 ${percentile(r.turns, 99).toFixed(3)} ms, event loop p99 ${r.loopP99.toFixed(2)} ms`,
    );
  }
}

const median = (xs: number[]): number => percentile(xs, 50);
console.log(
  `\n${calls} calls, a turn every ${TURN_EVERY_MS / 1000} s each on average, ${seconds} s per run; median of ${rounds} runs:`,
);
for (const [name, f] of figures) {
  const v = f.last.verdicts;
  const shadowed =
    name === 'off'
      ? ''
      : `; shadow answered in p50 ${percentile(f.last.shadowMs, 50).toFixed(2)} ms (agree ${v.agree}, disagree ${v.disagree}, busy ${v.busy}, failed ${v.failed})`;
  console.log(
    `  ${name.padEnd(11)}  turn p50 ${median(f.p50).toFixed(3)} ms  p99 ${median(f.p99).toFixed(3)} ms  event loop p99 ${median(f.loop).toFixed(2)} ms${shadowed}`,
  );
}

await live.release();
await inWorker.release();
await onMain.release();
await rm(dir, { recursive: true, force: true });
