/**
 * Runs one target's fuzz loop in a worker thread (worker.ts) and watches it: an input that never returns (a
 * loop in synchronous code cannot be interrupted from inside its thread) ends the worker, and is reported as the
 * target's failure with the input that hung, read from shared memory (shared-input.ts).
 */
import { Worker } from 'node:worker_threads';
import { saveInput } from './corpus.ts';
import type { RunOptions, RunReport } from './runner.ts';
import { SharedInput } from './shared-input.ts';

export interface WorkerInput {
  target: string;
  options: Omit<RunOptions, 'onInput'>;
  shared: SharedArrayBuffer;
}

/** Room for the largest input of any target. */
const SHARED_BYTES = 1 << 20;

/** The report of a run that did not finish: the worker hung or failed. */
function failed(
  target: string,
  executions: number,
  signature: string,
  error: string,
  input: Buffer,
): RunReport {
  return {
    target,
    executions,
    seconds: NaN,
    seeds: 0,
    added: 0,
    features: 0,
    failures: [{ signature, error, input }],
  };
}

/** Runs `target` in a worker; an input running longer than `hangMs` ends it. */
export function runInWorker(
  target: string,
  options: Omit<RunOptions, 'onInput'>,
  hangMs: number,
): Promise<RunReport> {
  const current = new SharedInput(SHARED_BYTES);
  const data: WorkerInput = { target, shared: current.buffer, options };
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./worker.ts', import.meta.url).href);
  // tsx registered on the main thread does not reach workers on Node 20: the worker registers it itself.
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`;
  const worker = new Worker(bootstrap, { eval: true, workerData: data });
  return new Promise((resolve) => {
    let last = 0;
    let still = Date.now();
    const finish = (report: RunReport): void => {
      clearInterval(watch);
      void worker.terminate();
      // Buffers arrive from the worker as plain Uint8Arrays.
      for (const f of report.failures) f.input = Buffer.from(f.input);
      resolve(report);
    };
    const watch = setInterval(() => {
      const count = current.count;
      if (count !== last || count === 0) {
        last = count;
        still = Date.now();
        return;
      }
      if (Date.now() - still < hangMs) return;
      const input = current.read();
      const kept = options.failuresOut ? saveInput(options.failuresOut, input, `${target}-hang-`) : null;
      const where = kept ? `input kept in ${kept}` : 'the worker was stopped';
      finish(failed(target, count, `hang: no return within ${hangMs} ms`, where, input));
    }, 250);
    worker.once('message', (report: RunReport) => finish(report));
    worker.once('error', (err) =>
      finish(
        failed(target, current.count, `the worker failed: ${err.message}`, err.stack ?? '', current.read()),
      ),
    );
  });
}
