/**
 * `npm run fuzz`: runs each fuzz target (test/fuzz/targets/) for a bounded time, coverage-guided, and prints
 * per target its executions, executions a second, failures and the inputs it added to its corpus. Each target
 * runs in a worker thread the main thread watches, so an input that never returns is caught and kept too.
 * Exit status 1 when any target failed.
 *
 *   npm run fuzz -- [--seconds 60] [--target NAME]... [--seed N] [--no-coverage]
 *                   [--corpus-out DIR] [--failures-out DIR] [--list]
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runInWorker } from '../test/fuzz/in-worker.ts';
import type { RunReport } from '../test/fuzz/runner.ts';
import { TARGETS } from '../test/fuzz/targets/index.ts';

/** An input that has not returned after this long is a hang (async ones time out sooner, in the runner). */
const HANG_MS = 20_000;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    'no-coverage': { type: 'boolean' },
    'corpus-out': { type: 'string' },
    'failures-out': { type: 'string' },
    list: { type: 'boolean' },
  },
});

if (values.list) {
  for (const t of TARGETS) console.log(t.name);
  process.exit(0);
}
/** A usage error: said, exit status 2. */
function usage(message: string): never {
  console.error(`npm run fuzz: ${message}`);
  process.exit(2);
}

const seconds = Number(values.seconds);
if (!(seconds > 0)) usage('--seconds must be a positive number');
const names = values.target ?? TARGETS.map((t) => t.name);
const unknown = names.filter((n) => !TARGETS.some((t) => t.name === n));
if (unknown.length > 0) usage(`no target named ${unknown.join(', ')}; --list names them`);
const base = join(tmpdir(), 'switchboard-fuzz');
const failuresOut = values['failures-out'] ?? join(base, 'failures');
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);

console.log(
  `fuzzing ${names.length} targets for ${seconds} s each (seed ${seed}); failing inputs go to ${failuresOut}`,
);
const row = (cells: (string | number)[]): string =>
  cells.map((c, i) => (i === 0 ? String(c).padEnd(16) : String(c).padStart(10))).join(' ');
console.log(row(['target', 'execs', 'execs/s', 'failures', 'corpus+', 'blocks']));
const reports: RunReport[] = [];
for (const name of names) {
  const corpusOut = values['corpus-out'] ? join(values['corpus-out'], name) : join(base, 'corpus', name);
  const report = await runInWorker(
    name,
    { seconds, seed, coverage: !values['no-coverage'], corpusOut, failuresOut },
    HANG_MS,
  );
  reports.push(report);
  const rate = Number.isFinite(report.seconds) ? Math.round(report.executions / report.seconds) : '-';
  console.log(row([name, report.executions, rate, report.failures.length, report.added, report.features]));
}
let failed = 0;
for (const report of reports) {
  for (const f of report.failures) {
    failed += 1;
    console.log(`\n${report.target}: ${f.signature}\n  input (${f.input.length} bytes): ${preview(f.input)}`);
    console.log(f.error.replace(/^/gm, '  '));
  }
}
if (failed > 0) console.log(`\n${failed} failures; inputs in ${failuresOut}`);
process.exitCode = failed > 0 ? 1 : 0;

/** The first bytes of an input, as JSON text so control characters show. */
function preview(input: Buffer): string {
  const text = JSON.stringify(input.subarray(0, 200).toString('utf8'));
  return input.length > 200 ? `${text}...` : text;
}
