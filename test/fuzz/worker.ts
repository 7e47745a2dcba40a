/**
 * One target's fuzz run in a worker thread (started by in-worker.ts), so the main thread can stop an input that
 * never returns. Each input is kept in shared memory (shared-input.ts) just before it runs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerInput } from './in-worker.ts';
import { runTarget } from './runner.ts';
import { SharedInput } from './shared-input.ts';
import { targetNamed } from './targets/index.ts';

const { target: name, options, shared } = workerData as WorkerInput;
const target = targetNamed(name);
if (!target) throw new Error(`no fuzz target named ${name}`);
const current = new SharedInput(shared);
const report = await runTarget(target, { ...options, onInput: (input) => current.write(input) });
parentPort?.postMessage(report);
