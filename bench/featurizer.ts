/**
 * Time per featurize call (default config, reused output buffer) for typical caller utterances, and for 10 kB
 * of text, which the 1000-character cap keeps cheap. Usage: node --import tsx bench/featurizer.ts [rounds=2000]
 */
import { DEFAULT_FEATURIZER, Featurizer } from '../src/nlu/index.ts';
import { percentile } from './server-process.ts';

const rounds = Number(process.argv[2] ?? 2000);
const utterances = [
  'yes',
  'no thanks',
  'I would like to book a table for two',
  'can you transfer me to billing please',
  "what's my account balance",
  'hi there I would like to move my appointment from Tuesday to Thursday afternoon if that is at all possible',
];
const long = 'Lorem ipsum, dolor sit amet! '.repeat(350);

const featurizer = new Featurizer(DEFAULT_FEATURIZER);
const out = new Float32Array(DEFAULT_FEATURIZER.dims);

function measure(texts: string[]): number[] {
  const us: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const text of texts) {
      const t0 = performance.now();
      featurizer.featurize(text, out);
      us.push((performance.now() - t0) * 1000);
    }
  }
  return us;
}

measure(utterances); // warm up the JIT
const typical = measure(utterances);
const big = measure([long]);
const fmt = (xs: number[]) =>
  `median ${percentile(xs, 50).toFixed(1)} µs, p95 ${percentile(xs, 95).toFixed(1)} µs`;
console.log(`featurizer dims ${DEFAULT_FEATURIZER.dims}, words [1,2], chars [3,4], ${rounds} rounds`);
console.log(`  typical utterances (1-20 words): ${fmt(typical)}`);
console.log(`  ${(long.length / 1024).toFixed(1)} KiB of text (cut to 1000 chars): ${fmt(big)}`);
