/**
 * Validation and compile time for a generated flow of 500 states (100 blocks of: a menu, a digit entry, a
 * read-back of the digits, a talking state, a next menu), from the file's text. Usage:
 * node --import tsx bench/flow-validate.ts [states=500] [runs=20]
 */
import { checkFlowText, compileFlow } from '../src/flow/index.ts';
import { generatedFlow } from '../test/fixtures/generated-flow.ts';
import { percentile } from './server-process.ts';

const stateCount = Number(process.argv[2] ?? 500);
const runs = Number(process.argv[3] ?? 20);

const text = JSON.stringify(generatedFlow(Math.ceil(stateCount / 5)), null, 2);
const validateMs: number[] = [];
const compileMs: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const result = checkFlowText(text);
  const t1 = performance.now();
  if (!result.ok)
    throw new Error(`generated flow is invalid: ${JSON.stringify(result.findings.slice(0, 3))}`);
  compileFlow(result.flow);
  const t2 = performance.now();
  validateMs.push(t1 - t0);
  compileMs.push(t2 - t1);
}
const fmt = (xs: number[]) =>
  `median ${percentile(xs, 50).toFixed(1)} ms (first run ${xs[0]!.toFixed(1)} ms, p95 ${percentile(xs, 95).toFixed(1)} ms)`;
console.log(`flow of ${stateCount} states, ${(text.length / 1024).toFixed(0)} KiB of JSON, ${runs} runs`);
console.log(`  parse + validate + static checks: ${fmt(validateMs)}`);
console.log(`  compile to a machine:             ${fmt(compileMs)}`);
