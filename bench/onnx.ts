/**
 * Intent MLP in onnxruntime at the default featurizer size (4096 -> 128 -> 20): model write and load time,
 * and single-row inference latency. Usage: node --import tsx bench/onnx.ts [runs=10000] [threads=1]
 */
import { IntentSession, mlpToOnnx, type OnnxMlpWeights } from '../src/nlu/index.ts';
import { percentile } from './server-process.ts';

const runs = Number(process.argv[2] ?? 10_000);
const threads = Number(process.argv[3] ?? 1);
const [inputDims, hidden, labels] = [4096, 128, 20];

let seed = 1;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const fill = (n: number, scale: number) => Float32Array.from({ length: n }, () => rand() * scale);
const weights: OnnxMlpWeights = {
  inputDims,
  hidden,
  labels,
  w1: fill(inputDims * hidden, 0.02),
  b1: fill(hidden, 0.1),
  w2: fill(hidden * labels, 0.1),
  b2: fill(labels, 0.1),
};

let t0 = performance.now();
const model = mlpToOnnx(weights);
const writeMs = performance.now() - t0;
// The first load also imports the native runtime; the second is what each later model load costs.
t0 = performance.now();
await (await IntentSession.load(model, { threads })).release();
const firstLoadMs = performance.now() - t0;
t0 = performance.now();
const session = await IntentSession.load(model, { threads });
const loadMs = performance.now() - t0;

// A featurized utterance is sparse: a few dozen non-zero hashed n-grams.
const x = new Float32Array(inputDims);
for (let i = 0; i < 60; i++) x[Math.floor(((rand() + 1) / 2) * inputDims)] = rand();

for (let i = 0; i < 500; i++) await session.run(x); // warm up
const us: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  await session.run(x);
  us.push((performance.now() - t) * 1000);
}
await session.release();

console.log(
  `onnx mlp ${inputDims}x${hidden}x${labels}, ${(model.length / 1e6).toFixed(2)} MB, threads ${threads}`,
);
console.log(
  `  write ${writeMs.toFixed(1)} ms, first load ${firstLoadMs.toFixed(1)} ms (with runtime import), load ${loadMs.toFixed(1)} ms`,
);
console.log(
  `  run (1 row, ${runs} runs): p50 ${percentile(us, 50).toFixed(1)} µs, p99 ${percentile(us, 99).toFixed(1)} µs`,
);
