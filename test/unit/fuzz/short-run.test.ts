/**
 * The short fuzz run of `npm test`: each target (test/fuzz/targets/) replays its committed corpus, crash
 * reproducers included, then fuzzes for a second and a half, coverage-guided, from a fixed seed, in a worker
 * thread that is stopped if an input never returns. `npm run fuzz` runs the same targets for longer.
 * FUZZ_SECONDS and FUZZ_SEED change the budget and the seed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCorpus } from '../../fuzz/corpus.ts';
import { runInWorker } from '../../fuzz/in-worker.ts';
import { TARGETS } from '../../fuzz/targets/index.ts';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 1.5);
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_101);
/** No input of any target comes near this; one that does is a hang. */
const HANG_MS = 10_000;

test('every target has a committed corpus to start from', () => {
  for (const target of TARGETS)
    assert.ok(loadCorpus(target.name).length >= 3, `${target.name} has too few seeds`);
});

for (const target of TARGETS) {
  test(`fuzz ${target.name}: typed errors only, round trips hold (${SECONDS} s, seed ${SEED})`, async () => {
    const report = await runInWorker(target.name, { seconds: SECONDS, seed: SEED }, HANG_MS);
    const failures = report.failures.map(
      (f) => `${f.signature}\n  input: ${JSON.stringify(f.input.toString('utf8').slice(0, 400))}\n${f.error}`,
    );
    assert.deepEqual(failures, []);
    assert.ok(report.executions > report.seeds, `only the ${report.seeds} seeds ran`);
    assert.ok(report.features > 0, 'coverage saw no block of src/ run');
  });
}
